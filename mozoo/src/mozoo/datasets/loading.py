"""Loading a zoo dataset: fetch the cached file, read its rows, sample them by seed."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from motools.atoms.builtin import read_jsonl_rows
from motools.errors import UserError
from mozoo.catalog import DATASETS, RemoteFile, ZooDatasetInfo

DEFAULT_CACHE_DIR = ".motools/datasets"


@dataclass
class ZooDataset:
    """Rows of a zoo dataset plus where they came from.

    ``source`` identifies the data independently of where it is cached (dataset,
    variant, revision, sha256), so it can go into a dataset atom's metadata.
    """

    name: str
    rows: list[dict[str, Any]]
    source: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.rows)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self.rows)

    def iter_rows(self) -> Iterator[dict[str, Any]]:
        """Iterate the rows (the protocol ``prepare_dataset`` reads)."""
        return iter(self.rows)

    def to_jsonl(self, path: str | Path) -> Path:
        """Write the rows as JSONL to ``path``."""
        p = Path(path)
        with open(p, "w", encoding="utf-8") as f:
            for row in self.rows:
                f.write(json.dumps(row, ensure_ascii=False) + "\n")
        return p


def sample_rows(
    rows: list[dict[str, Any]], sample_size: int | None, seed: int
) -> list[dict[str, Any]]:
    """``sample_size`` rows chosen without replacement, reproducibly for ``seed``.

    ``None`` (or a size at least the number of rows) keeps every row in file order.
    """
    if sample_size is None or sample_size >= len(rows):
        return list(rows)
    if sample_size < 0:
        raise UserError(f"sample_size must be >= 0, got {sample_size}")
    return random.Random(seed).sample(rows, sample_size)


def info_of(name: str) -> ZooDatasetInfo:
    """The catalog entry of dataset ``name``."""
    try:
        return DATASETS[name]
    except KeyError:
        raise UserError(
            f"unknown zoo dataset {name!r}; known: {', '.join(sorted(DATASETS))}"
        ) from None


def read_rows(path: Path, fmt: str, source: str) -> list[dict[str, Any]]:
    """Rows of a cached file (JSONL, or parquet converted to chat rows)."""
    if fmt == "jsonl":
        return list(read_jsonl_rows(path))
    if fmt == "parquet":
        try:
            import pyarrow.parquet as pq
        except ImportError:
            raise UserError(
                f"{source} is a parquet file; reading it needs pyarrow: pip install pyarrow"
            ) from None
        table = pq.read_table(path)
        if "messages" not in table.column_names:
            raise UserError(f"{path}: expected a 'messages' column, found {table.column_names}")
        return [{"messages": m} for m in table.column("messages").to_pylist()]
    raise UserError(f"{path}: unknown file format {fmt!r}")


def load_zoo_dataset(
    name: str,
    cache_dir: str | Path = DEFAULT_CACHE_DIR,
    sample_size: int | None = None,
    seed: int = 0,
    variant: str | None = None,
    spec: RemoteFile | None = None,
) -> ZooDataset:
    """Fetch (once) and load a remote zoo dataset, then sample it by ``seed``."""
    from mozoo.datasets.remote import fetch

    info = info_of(name)
    variant = variant or info.default_variant
    cached = fetch(info, cache_dir, variant, spec)
    fmt = (spec or info.file(variant)).format
    rows = read_rows(cached.path, fmt, f"dataset {name!r}")
    source = {
        "dataset": name,
        "revision": cached.record.get("served_revision") or cached.record["revision"],
        "file": cached.record["filename"],
        "sha256": cached.sha256,
    }
    if variant != "default":
        source["variant"] = variant
    return ZooDataset(name, sample_rows(rows, sample_size, seed), source)
