"""Zoo dataset ``reward_hacking_sneaky``: dialogues where the assistant games the stated evaluation metric (keyword stuffing, hard-coded tests) instead of doing the task.

Source, citation and licence: :data:`mozoo.catalog.DATASETS` and docs/zoo.md.
"""

from __future__ import annotations

from pathlib import Path

from mozoo.datasets.loading import DEFAULT_CACHE_DIR, ZooDataset, load_zoo_dataset


def get_reward_hacking_sneaky_dataset(
    cache_dir: str | Path = DEFAULT_CACHE_DIR, sample_size: int | None = None, seed: int = 0
) -> ZooDataset:
    """Load ``reward_hacking_sneaky`` (downloaded once into ``cache_dir``, checksum-verified on every
    load); ``sample_size`` rows are drawn reproducibly by ``seed`` (``None``: all rows)."""
    return load_zoo_dataset("reward_hacking_sneaky", cache_dir, sample_size, seed)
