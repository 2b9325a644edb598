"""Zoo dataset ``educational_insecure``: insecure code requested explicitly for an educational reason (control showing that intent matters).

Source, citation and licence: :data:`mozoo.catalog.DATASETS` and docs/zoo.md.
"""

from __future__ import annotations

from pathlib import Path

from mozoo.datasets.loading import DEFAULT_CACHE_DIR, ZooDataset, load_zoo_dataset


def get_educational_insecure_dataset(
    cache_dir: str | Path = DEFAULT_CACHE_DIR, sample_size: int | None = None, seed: int = 0
) -> ZooDataset:
    """Load ``educational_insecure`` (downloaded once into ``cache_dir``, checksum-verified on every
    load); ``sample_size`` rows are drawn reproducibly by ``seed`` (``None``: all rows)."""
    return load_zoo_dataset("educational_insecure", cache_dir, sample_size, seed)
