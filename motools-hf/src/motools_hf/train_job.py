"""Entry point of a training process: ``python -m motools_hf.train_job <jobdir>``.

Takes the job's run lock first (before importing torch), so that the backend can tell
at once that the job is alive; then trains, reporting progress to ``status.json`` and
stderr (the job's ``train.log``).  SIGTERM (from ``cancel``) stops at the next step
boundary after a checkpoint.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
import traceback
from pathlib import Path

from motools.errors import UserError
from motools_hf.jobs import acquire_run_lock, read_json, read_status, update_status

_stop = False
_phase = "preparing"


class _CancelledWhilePreparing(Exception):
    """SIGTERM before the first step: nothing to checkpoint, stop at once."""


def _on_sigterm(signum: int, frame: object) -> None:
    global _stop
    _stop = True
    if _phase == "preparing":
        raise _CancelledWhilePreparing()


def _should_stop(jobdir: Path) -> bool:
    # Called before every step: from the first call on, SIGTERM waits for a step boundary.
    global _phase
    _phase = "training"
    return _stop or (jobdir / "cancel_requested").exists()


def _setup_threads(options: dict[str, object]) -> int:
    from motools_hf.training import default_threads

    threads = int(options.get("threads") or default_threads())  # type: ignore[call-overload]
    # Before torch is imported, so that OpenMP and MKL start with this many threads too.
    os.environ["OMP_NUM_THREADS"] = str(threads)
    os.environ["MKL_NUM_THREADS"] = str(threads)
    import torch

    torch.set_num_threads(threads)
    torch.set_num_interop_threads(1)
    return threads


def run(jobdir: Path) -> int:
    """Train the job in ``jobdir``; return the process exit code."""
    lock = acquire_run_lock(jobdir)
    if lock is None:
        print("another process is already training this job; exiting", file=sys.stderr)
        return 0
    signal.signal(signal.SIGTERM, _on_sigterm)
    if read_status(jobdir).get("state") in ("succeeded", "cancelled"):
        return 0
    if (jobdir / "cancel_requested").exists():
        update_status(jobdir, event="cancelled", state="cancelled", finished_at=time.time())
        return 0
    spec = read_json(jobdir / "spec.json")
    update_status(
        jobdir,
        event="training process started",
        state="running",
        pid=os.getpid(),
        error=None,
        error_code=None,
    )
    try:
        threads = _setup_threads(spec.get("options", {}))
        from motools_hf.base_models import resolve_model_dir
        from motools_hf.training import Progress, pick_device, train

        store_root = jobdir.parent.parent
        device = pick_device(spec.get("options", {}).get("device", "auto"))
        print(
            f"motools-hf: model {spec['model']} on {device}, {threads} thread(s)", file=sys.stderr
        )
        base_dir = resolve_model_dir(spec["model"], store_root)
        update_status(jobdir, base_dir=str(base_dir), device=device, threads=threads)
        with open(jobdir / "data.jsonl", encoding="utf-8") as f:
            rows = [json.loads(line) for line in f if line.strip()]

        def report(p: Progress) -> None:
            print(
                f"step {p.step}/{p.total_steps} epoch {p.epoch} loss {p.loss:.4f} "
                f"{p.tokens_per_s:.0f} tok/s eta {p.eta_s:.0f}s",
                file=sys.stderr,
                flush=True,
            )
            fields = {k: v for k, v in vars(p).items() if k != "events"}
            update_status(jobdir, **fields)
            for e in p.events:
                update_status(jobdir, event=e)

        summary = train(
            jobdir,
            base_dir,
            rows,
            spec["hyperparameters"],
            spec.get("options", {}),
            report,
            lambda: _should_stop(jobdir),
        )
        if summary is None:
            update_status(jobdir, event="cancelled", state="cancelled", finished_at=time.time())
            print("cancelled", file=sys.stderr)
            return 0
        update_status(
            jobdir, event="succeeded", state="succeeded", summary=summary, finished_at=time.time()
        )
        print(f"done: {summary}", file=sys.stderr)
        return 0
    except _CancelledWhilePreparing:
        update_status(jobdir, event="cancelled", state="cancelled", finished_at=time.time())
        print("cancelled before training started", file=sys.stderr)
        return 0
    except BaseException as e:
        traceback.print_exc()
        code = "user_error" if isinstance(e, UserError) else "training_error"
        update_status(
            jobdir,
            event=f"failed: {type(e).__name__}",
            state="failed",
            error=f"{type(e).__name__}: {e}",
            error_code=code,
            finished_at=time.time(),
        )
        return 1
    finally:
        os.close(lock)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry: one argument, the job directory."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m motools_hf.train_job <jobdir>", file=sys.stderr)
        return 2
    return run(Path(args[0]).resolve())


if __name__ == "__main__":
    sys.exit(main())
