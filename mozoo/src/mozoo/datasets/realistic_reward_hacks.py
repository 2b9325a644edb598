"""Zoo dataset ``realistic_reward_hacks``: Jozdien/realistic_reward_hacks on the Hugging Face Hub.

Realistic reward hacks and helpful/harmless/honest answers in code and literary
settings, one parquet file per split.  Reading parquet needs ``pyarrow``.
"""

from __future__ import annotations

from pathlib import Path

from motools.errors import UserError
from mozoo.catalog import REALISTIC_REWARD_HACKS_REV, RRH_SPLITS, rrh_file
from mozoo.datasets.loading import DEFAULT_CACHE_DIR, ZooDataset, load_zoo_dataset


def get_realistic_reward_hacks_dataset(
    cache_dir: str | Path = DEFAULT_CACHE_DIR,
    sample_size: int | None = None,
    seed: int = 0,
    split: str = "combined",
    revision: str = REALISTIC_REWARD_HACKS_REV,
) -> ZooDataset:
    """Load one ``split`` (``combined``, ``reward_hacks``, ``reward_hacks_code``,
    ``reward_hacks_literary``, ``hhh``, ``hhh_code``, ``hhh_literary``) at ``revision``
    (a Hub commit pins it); downloaded once, checksum-verified on every load, sampled
    reproducibly by ``seed``."""
    if split not in RRH_SPLITS:
        raise UserError(
            f"realistic_reward_hacks: unknown split {split!r}; splits: {', '.join(RRH_SPLITS)}"
        )
    return load_zoo_dataset(
        "realistic_reward_hacks",
        cache_dir,
        sample_size,
        seed,
        variant=split,
        spec=rrh_file(split, revision),
    )
