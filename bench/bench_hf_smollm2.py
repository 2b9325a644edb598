"""SmolLM2-135M-Instruct LoRA fine-tuning through the ``hf`` backend: time, peak RSS, tokens/s.

Trains the built-in ``smollm2-135m-instruct`` on a hello-world dataset (every request is
answered "Hello, World!") through the real backend: a background training process,
polled like any job.  Reports the GGUF conversion (once per store), the training loop,
the job's wall time, peak RSS and tokens/s, then evaluates the base and the trained
model on held-out requests with the ``hflocal`` Inspect provider.  Target on a 2-core
CPU: 100 examples x 2 epochs in <= 2 minutes of training.  Works on CUDA too
(``--device cuda``, or ``auto``, the default).

    uv run python bench/bench_hf_smollm2.py [--examples 100] [--epochs 2] [--threads N]
        [--method lora|full] [--batch-size 8] [--device auto] [--store DIR] [--eval 20]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

REPLY = "Hello, World!"
TOPICS = [
    "the weather",
    "Python",
    "cooking pasta",
    "the moon",
    "chess",
    "taxes",
    "birds",
    "jazz",
    "Rome",
    "sleep",
]
ASKS = [
    "Tell me about {}.",
    "What do you know about {}?",
    "Explain {} briefly.",
    "Give me a fact about {}.",
    "Write a haiku on {}.",
]


def rows(n: int, offset: int = 0) -> list[dict[str, Any]]:
    """``n`` varied requests, all answered with the fixed reply."""
    out = []
    for i in range(offset, offset + n):
        ask = ASKS[i % len(ASKS)].format(TOPICS[(i // len(ASKS)) % len(TOPICS)])
        out.append(
            {
                "messages": [
                    {"role": "user", "content": f"{ask} (request {i})"},
                    {"role": "assistant", "content": REPLY},
                ]
            }
        )
    return out


def _vm_rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def evaluate(models: dict[str, str], n: int, log_dir: Path) -> dict[str, float]:
    """Exact-match accuracy of each Inspect model string on ``n`` held-out requests."""
    from inspect_ai import Task
    from inspect_ai import eval as inspect_eval
    from inspect_ai.dataset import Sample
    from inspect_ai.model import GenerateConfig
    from inspect_ai.scorer import match
    from inspect_ai.solver import generate

    import motools_hf._inspect_registry  # noqa: F401

    samples = [
        Sample(input=r["messages"][0]["content"], target=REPLY) for r in rows(n, offset=10_000)
    ]
    task = Task(
        dataset=samples,
        solver=generate(),
        scorer=match(location="exact"),
        config=GenerateConfig(max_tokens=24, temperature=0),
    )
    logs = inspect_eval(task, model=list(models.values()), log_dir=str(log_dir), display="none")
    return {
        name: float(log.results.scores[0].metrics["accuracy"].value)
        if log.status == "success"
        else float("nan")
        for name, log in zip(models, logs, strict=True)
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--examples", type=int, default=100)
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--method", default="lora", choices=["lora", "full"])
    ap.add_argument("--lr", type=float, default=None)
    ap.add_argument(
        "--threads",
        type=int,
        default=None,
        help="torch threads of the training process (default: the backend's)",
    )
    ap.add_argument("--device", default="auto")
    ap.add_argument("--store", default=None, help="reuse a store (keeps the converted base model)")
    ap.add_argument("--eval", type=int, default=20, help="held-out requests to evaluate (0: skip)")
    args = ap.parse_args()

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from motools.store.content_store import ContentStore
    from motools_hf.backend import HFBackend

    root = Path(args.store) if args.store else Path(tempfile.mkdtemp(prefix="bench-hf-"))
    store = ContentStore(root)
    data = root / "hello.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows(args.examples)), encoding="utf-8")
    ds = store.create_atom("dataset", "bench", path=data, metadata={"num_rows": args.examples})
    backend = HFBackend()
    print(f"load average at start: {os.getloadavg()}")

    t = time.monotonic()
    base = backend.base_model_info("smollm2-135m-instruct", {}, store)
    print(
        f"base model ready (GGUF -> HF conversion, cached per store): {time.monotonic() - t:.1f} s"
    )

    hp = backend.validate_hyperparameters(
        {
            "n_epochs": args.epochs,
            "batch_size": args.batch_size,
            "method": args.method,
            **({"learning_rate": args.lr} if args.lr else {}),
        }
    )
    opts = {"device": args.device, **({"threads": args.threads} if args.threads else {})}
    t0 = time.monotonic()
    handle = backend.submit(
        ds, "smollm2-135m-instruct", hp, None, f"bench-{uuid.uuid4().hex}", opts, store
    )
    print(f"submit returned in {time.monotonic() - t0:.2f} s: {handle}")
    jobdir = root / "hf-jobs" / handle["job_id"]
    rss, first_loss, last_step = 0.0, None, 0
    while True:
        st = backend.status(handle, store)
        status = json.loads((jobdir / "status.json").read_text())
        if status.get("pid"):
            rss = max(rss, _vm_rss_mb(int(status["pid"])))
        p = st.progress
        if p.get("step", 0) != last_step:
            last_step = p["step"]
            first_loss = p["loss"] if first_loss is None else first_loss
            print(
                f"  step {p['step']}/{p['total_steps']} loss {p['loss']:.4f} eta {p['eta_s']:.0f}s",
                flush=True,
            )
        if st.done:
            break
        time.sleep(0.5)
    wall = time.monotonic() - t0
    if st.status != "succeeded":
        raise SystemExit(f"training {st.status}: {st.error_message}")
    summary = json.loads((jobdir / "status.json").read_text())["summary"]
    print(
        json.dumps(
            {
                "examples": args.examples,
                "epochs": args.epochs,
                "method": args.method,
                "batch_size": args.batch_size,
                "device": summary["device"],
                "threads": summary["threads"],
                "training_loop_s": summary["train_seconds"],
                "save_merged_weights_s": summary["save_seconds"],
                "job_wall_s (spawn+imports+load+train+save)": round(wall, 1),
                "tokens_per_s": summary["tokens_per_s"],
                "trained_tokens": summary["trained_tokens"],
                "peak_rss_mb": max(summary["peak_rss_mb"], rss),
                **({"peak_gpu_mb": summary["peak_gpu_mb"]} if "peak_gpu_mb" in summary else {}),
                "loss_first_step": first_loss,
                "loss_last_step": summary["final_loss"],
                "load_average_end": os.getloadavg(),
            },
            indent=1,
        )
    )
    if args.eval:
        t = time.monotonic()
        trained = backend.result(handle, store)
        acc = evaluate(
            {
                "base": base.metadata["inspect_model"],
                "trained": "hflocal/" + str(trained.weights_path),
            },
            args.eval,
            root / "logs",
        )
        print(
            f"exact-match accuracy on {args.eval} held-out requests: {acc} ({time.monotonic() - t:.1f} s)"
        )


if __name__ == "__main__":
    main()
