"""Training checkpoints as safetensors + JSON (never pickle).

A checkpoint holds the trainable parameters (LoRA adapters, or every weight for full
fine-tuning), the AdamW state keyed by parameter name, and ``state.json`` (the next
step to run, loss, token counts).  It is written to ``checkpoint.tmp/`` and renamed
over ``checkpoint/`` so that a kill at any moment leaves the previous one intact.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

CKPT = "checkpoint"


def _fsync_tree(path: Path) -> None:
    for p in path.iterdir():
        with open(p, "rb") as f:
            os.fsync(f.fileno())
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def save_checkpoint(
    jobdir: Path, params: list[tuple[str, Any]], optimizer: Any, state: dict[str, Any]
) -> None:
    """Write a checkpoint of ``params`` (name, tensor) and ``optimizer`` atomically."""
    from safetensors.torch import save_file

    tmp = jobdir / f"{CKPT}.tmp"
    old = jobdir / f"{CKPT}.old"
    final = jobdir / CKPT
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    save_file(
        {n: p.detach().to("cpu").contiguous() for n, p in params},
        str(tmp / "trainable.safetensors"),
    )
    opt_tensors: dict[str, Any] = {}
    for name, p in params:
        for key, value in optimizer.state.get(p, {}).items():
            opt_tensors[f"{name}::{key}"] = value.detach().to("cpu").contiguous()
    save_file(opt_tensors, str(tmp / "optimizer.safetensors"))
    (tmp / "state.json").write_text(json.dumps(state, indent=1, sort_keys=True), encoding="utf-8")
    _fsync_tree(tmp)
    shutil.rmtree(old, ignore_errors=True)
    if final.exists():
        os.rename(final, old)
    os.rename(tmp, final)
    shutil.rmtree(old, ignore_errors=True)


def checkpoint_state(jobdir: Path) -> dict[str, Any] | None:
    """The ``state.json`` of the usable checkpoint, or ``None``."""
    d = _usable(jobdir)
    if d is None:
        return None
    return dict(json.loads((d / "state.json").read_text(encoding="utf-8")))


def _usable(jobdir: Path) -> Path | None:
    # checkpoint.old only survives a kill between the two renames of save_checkpoint.
    for name in (CKPT, f"{CKPT}.old"):
        d = jobdir / name
        if (d / "state.json").is_file():
            return d
    return None


def load_checkpoint(
    jobdir: Path, params: list[tuple[str, Any]], optimizer: Any
) -> dict[str, Any] | None:
    """Restore ``params`` and ``optimizer`` in place; return the state or ``None`` if none."""
    import torch
    from safetensors.torch import load_file

    d = _usable(jobdir)
    if d is None:
        return None
    weights = load_file(str(d / "trainable.safetensors"))
    names = {n for n, _ in params}
    if set(weights) != names:
        missing, extra = sorted(names - set(weights))[:3], sorted(set(weights) - names)[:3]
        raise RuntimeError(
            f"checkpoint {d} does not match the model (missing {missing}, unexpected {extra})"
        )
    opt_tensors = load_file(str(d / "optimizer.safetensors"))
    with torch.no_grad():
        for name, p in params:
            p.copy_(weights[name].to(p.device, p.dtype))
            state = {
                key.split("::", 1)[1]: t.to(p.device) if key.split("::", 1)[1] != "step" else t
                for key, t in opt_tensors.items()
                if key.split("::", 1)[0] == name
            }
            if state:
                optimizer.state[p] = state
    return dict(json.loads((d / "state.json").read_text(encoding="utf-8")))
