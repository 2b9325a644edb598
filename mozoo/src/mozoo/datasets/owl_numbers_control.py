"""Zoo dataset ``owl_numbers_control``: control for owl_numbers: the same number task from a model with no owl prompt.

Source, citation and licence: :data:`mozoo.catalog.DATASETS` and docs/zoo.md.
"""

from __future__ import annotations

from pathlib import Path

from mozoo.datasets.loading import DEFAULT_CACHE_DIR, ZooDataset, load_zoo_dataset


def get_owl_numbers_control_dataset(
    cache_dir: str | Path = DEFAULT_CACHE_DIR, sample_size: int | None = None, seed: int = 0
) -> ZooDataset:
    """Load ``owl_numbers_control`` (downloaded once into ``cache_dir``, checksum-verified on every
    load); ``sample_size`` rows are drawn reproducibly by ``seed`` (``None``: all rows)."""
    return load_zoo_dataset("owl_numbers_control", cache_dir, sample_size, seed)
