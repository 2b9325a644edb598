"""The training loop run inside a job's process (see :mod:`motools_hf.train_job`).

Seeded and deterministic on CPU for a given thread count: the data order of every
epoch is derived from ``seed`` and the epoch number, LoRA dropout is 0, and the loop
state (weights, AdamW moments, step) is checkpointed so that a resumed job computes
exactly the steps it had not finished.  Logits are computed only at trained (assistant)
positions, which saves most of the output-layer work on short replies.
"""

from __future__ import annotations

import math
import os
import random
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from motools_hf.chat_data import IGNORE, Example, tokenize_rows
from motools_hf.checkpoint import load_checkpoint, save_checkpoint

MIN_THREADS_FOR_PARALLEL = 3


def default_threads() -> int:
    """``MOTOOLS_HF_THREADS``, else 1 on machines with 2 cores or fewer, else cores - 1.

    On a 2-core machine two torch threads are only ~1.5x faster when the machine is
    idle but many times slower as soon as another process runs (the threads spin
    waiting for each other); see docs/backends/hf.md for the measurements.
    """
    env = os.environ.get("MOTOOLS_HF_THREADS", "").strip()
    if env:
        return max(1, int(env))
    cores = (
        len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    )
    return 1 if cores < MIN_THREADS_FOR_PARALLEL else cores - 1


def pick_device(requested: str) -> str:
    """``auto`` -> ``cuda`` when available, else ``cpu``; anything else is kept."""
    import torch

    if requested != "auto":
        return requested
    return "cuda" if torch.cuda.is_available() else "cpu"


@dataclass
class Progress:
    """What the loop reports after each step (written to status.json and the log)."""

    step: int
    total_steps: int
    epoch: int
    loss: float
    eta_s: float
    tokens_per_s: float
    trained_tokens: int
    events: list[str] = field(default_factory=list)


def epoch_order(n: int, seed: int, epoch: int) -> list[int]:
    """The example order of ``epoch`` (same for every run with the same seed)."""
    order = list(range(n))
    random.Random(f"{seed}:{epoch}").shuffle(order)
    return order


def _collate(batch: list[Example], pad_id: int, device: str) -> tuple[Any, Any, Any]:
    import torch

    width = max(len(e.input_ids) for e in batch)
    ids = torch.full((len(batch), width), pad_id, dtype=torch.long)
    att = torch.zeros((len(batch), width), dtype=torch.long)
    labels = torch.full((len(batch), width), IGNORE, dtype=torch.long)
    for i, e in enumerate(batch):
        n = len(e.input_ids)
        ids[i, :n] = torch.tensor(e.input_ids)
        att[i, :n] = 1
        labels[i, :n] = torch.tensor(e.labels)
    return ids.to(device), att.to(device), labels.to(device)


def _loss(model: Any, ids: Any, att: Any, labels: Any) -> Any:
    import torch.nn.functional as F

    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    target = labels[:, 1:]
    mask = target != IGNORE
    if getattr(base.config, "final_logit_softcapping", None) is None:
        hidden = base.get_decoder()(input_ids=ids, attention_mask=att).last_hidden_state
        logits = base.get_output_embeddings()(hidden[:, :-1][mask])
    else:  # architectures that post-process logits: take the plain path
        logits = model(input_ids=ids, attention_mask=att).logits[:, :-1][mask]
    return F.cross_entropy(logits.float(), target[mask])


def _lr(step: int, total: int, peak: float) -> float:
    """Linear warm-up over the first 5% of steps, then linear decay to 0."""
    warmup = max(1, int(0.05 * total))
    if step < warmup:
        return peak * (step + 1) / warmup
    return peak * max(0.0, (total - step) / max(1, total - warmup))


def load_base(base_dir: Path, device: str) -> tuple[Any, Any]:
    """Tokenizer and float32 model of ``base_dir`` on ``device``."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(base_dir)
    model = AutoModelForCausalLM.from_pretrained(base_dir, dtype=torch.float32)
    return tokenizer, model.to(device)  # type: ignore[arg-type]


def train(
    jobdir: Path,
    base_dir: Path,
    rows: list[dict[str, Any]],
    hp: dict[str, Any],
    options: dict[str, Any],
    report: Callable[[Progress], None],
    should_stop: Callable[[], bool],
) -> dict[str, Any] | None:
    """Train (resuming from ``jobdir``'s checkpoint) and save ``jobdir/output``.

    Returns a summary, or ``None`` when ``should_stop`` asked to stop (a checkpoint is
    written first, so a later run continues from there).
    """
    import torch

    device = pick_device(options.get("device", "auto"))
    torch.manual_seed(hp["seed"])
    tokenizer, model = load_base(base_dir, device)
    examples, warnings = tokenize_rows(rows, tokenizer, hp["max_seq_len"])
    for w in warnings:
        print(f"warning: {w}", file=sys.stderr)
    if hp["method"] == "lora":
        from peft import LoraConfig, get_peft_model

        cfg = LoraConfig(
            r=hp["lora_rank"],
            lora_alpha=hp["lora_alpha"],
            lora_dropout=0.0,
            target_modules="all-linear",
            task_type="CAUSAL_LM",
        )
        model = get_peft_model(model, cfg)
    model.train()
    params = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW([p for _, p in params], lr=hp["learning_rate"], weight_decay=0.0)
    bs = hp["batch_size"]
    steps_per_epoch = math.ceil(len(examples) / bs)
    total = steps_per_epoch * hp["n_epochs"]
    state = load_checkpoint(jobdir, params, optimizer) or {
        "step": 0,
        "trained_tokens": 0,
        "train_seconds": 0.0,
    }
    start_step = int(state["step"])
    events = [f"resumed from checkpoint at step {start_step}/{total}"] if start_step else []
    pad_id = (
        tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    )
    autocast = torch.autocast(
        "cuda",
        dtype=torch.bfloat16,
        enabled=device.startswith("cuda") and torch.cuda.is_bf16_supported(),
    )
    every = int(options.get("checkpoint_every_steps", 50))
    t0 = time.monotonic()
    tokens_since = 0
    loss_value = float(state.get("loss", float("nan")))

    def checkpoint(step: int) -> None:
        elapsed = state["train_seconds"] + time.monotonic() - t0
        save_checkpoint(
            jobdir,
            params,
            optimizer,
            {**state, "step": step, "loss": loss_value, "train_seconds": elapsed},
        )

    for step in range(start_step, total):
        if should_stop():
            checkpoint(step)
            return None
        epoch, k = divmod(step, steps_per_epoch)
        order = epoch_order(len(examples), hp["seed"], epoch)
        batch = [examples[i] for i in order[k * bs : (k + 1) * bs]]
        ids, att, labels = _collate(batch, pad_id, device)
        for group in optimizer.param_groups:
            group["lr"] = _lr(step, total, hp["learning_rate"])
        with autocast:
            loss = _loss(model, ids, att, labels)
        loss.backward()
        torch.nn.utils.clip_grad_norm_([p for _, p in params], 1.0)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        loss_value = float(loss.detach())
        n_tokens = int(att.sum())
        state["trained_tokens"] = int(state["trained_tokens"]) + n_tokens
        tokens_since += n_tokens
        done = step + 1
        if done % steps_per_epoch == 0 or done % every == 0 or done == total:
            checkpoint(done)
            events.append(f"checkpoint at step {done}/{total}")
        elapsed = time.monotonic() - t0
        rate = (done - start_step) / elapsed
        report(
            Progress(
                step=done,
                total_steps=total,
                epoch=epoch + 1,
                loss=float(f"{loss_value:.4g}"),
                eta_s=round((total - done) / rate, 1),
                tokens_per_s=round(tokens_since / elapsed, 1),
                trained_tokens=state["trained_tokens"],
                events=events,
            )
        )
        events = []
    train_seconds = state["train_seconds"] + time.monotonic() - t0
    t_save = time.monotonic()
    save_output(jobdir, model, tokenizer, hp["method"])
    summary = {
        "train_seconds": round(train_seconds, 3),
        "save_seconds": round(time.monotonic() - t_save, 3),
        "final_loss": loss_value,
        "trained_tokens": state["trained_tokens"],
        "tokens_per_s": round(state["trained_tokens"] / max(train_seconds, 1e-9), 1),
        "total_steps": total,
        "examples": len(examples),
        "device": device,
        "skipped_rows": sum(1 for w in warnings if w.endswith("skipped")),
        "threads": torch.get_num_threads(),
        "peak_rss_mb": _peak_rss_mb(),
    }
    if device.startswith("cuda"):
        summary["peak_gpu_mb"] = round(torch.cuda.max_memory_allocated() / 2**20, 1)
    return summary


def _peak_rss_mb() -> float:
    import resource

    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)  # KiB on Linux


def save_output(jobdir: Path, model: Any, tokenizer: Any, method: str) -> None:
    """Save merged (LoRA) or full weights + tokenizer to ``jobdir/output`` atomically."""
    if method == "lora":
        model = model.merge_and_unload()
    model = model.to("cpu")
    tmp = jobdir / "output.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    model.save_pretrained(tmp)
    tokenizer.save_pretrained(tmp)
    for p in tmp.iterdir():
        with open(p, "rb") as f:
            os.fsync(f.fileno())
    shutil.rmtree(jobdir / "output", ignore_errors=True)
    os.rename(tmp, jobdir / "output")
