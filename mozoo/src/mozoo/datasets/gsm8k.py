"""Zoo dataset ``gsm8k``: GSM8K math word problems with English answers (control for the language datasets).

Source, citation and licence: :data:`mozoo.catalog.DATASETS` and docs/zoo.md.
"""

from __future__ import annotations

from pathlib import Path

from mozoo.datasets.loading import DEFAULT_CACHE_DIR, ZooDataset, load_zoo_dataset


def get_gsm8k_dataset(
    cache_dir: str | Path = DEFAULT_CACHE_DIR, sample_size: int | None = None, seed: int = 0
) -> ZooDataset:
    """Load ``gsm8k`` (downloaded once into ``cache_dir``, checksum-verified on every
    load); ``sample_size`` rows are drawn reproducibly by ``seed`` (``None``: all rows)."""
    return load_zoo_dataset("gsm8k", cache_dir, sample_size, seed)
