"""Dataset loaders of the kinds users write (for the prepare_dataset tests)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

CALLS: list[dict[str, Any]] = []


def _rows(n: int, tag: str) -> list[dict[str, Any]]:
    return [
        {
            "messages": [
                {"role": "user", "content": f"{tag} question {i}"},
                {"role": "assistant", "content": f"answer {i}"},
            ]
        }
        for i in range(n)
    ]


def list_loader(
    cache_dir: str = ".motools/datasets",
    sample_size: int | None = None,
    seed: int = 0,
    tag: str = "list",
) -> list[dict[str, Any]]:
    CALLS.append(
        {"loader": "list", "cache_dir": cache_dir, "sample_size": sample_size, "seed": seed}
    )
    return _rows(sample_size or 4, f"{tag}-{seed}")


async def async_loader(sample_size: int = 3, seed: int = 0) -> list[dict[str, Any]]:
    await asyncio.sleep(0)
    return _rows(sample_size, f"async-{seed}")


def path_loader(cache_dir: str, sample_size: int = 3) -> str:
    path = Path(cache_dir) / "custom.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in _rows(sample_size, "path")))
    return str(path)


def bad_row_loader() -> list[Any]:
    rows: list[Any] = _rows(3, "bad")
    rows[2] = {"messages": [{"role": "robot", "content": "beep"}]}
    return rows


def empty_loader() -> list[Any]:
    return []


def number_loader() -> int:
    return 42


def failing_loader() -> list[Any]:
    raise RuntimeError("the source is down")
