"""Overhead of the motools ``inspect`` backend over calling ``inspect_ai.eval`` directly.

Same 100-sample task, same ``mockllm/model`` with scripted outputs (explicit usage), in
two situations:

* warm: a process that has already run an evaluation calls ``inspect_ai.eval`` again,
  versus ``InspectBackend.evaluate`` on a warm worker (what every evaluation after the
  first of a sweep or notebook session sees);
* cold: a fresh ``python`` that imports Inspect and evaluates once, versus a fresh
  ``python`` that evaluates once through the backend (worker start included).

Runs alternate between the two sides; medians are compared (the fastest runs are shown
too: on a shared machine, other load only ever adds time).  Cold runs also report CPU
time, which that load does not inflate.  Goal: overhead <= 10 % or <= 0.5 s, whichever
is larger.

    uv run python bench/bench_inspect_overhead.py [--reps 5] [--cold-reps 3]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

N_SAMPLES = 100
HERE = Path(__file__).resolve().parent


def hundred_samples() -> Any:
    """The benchmark task (a plain function: the backend's worker calls it)."""
    from inspect_ai import Task
    from inspect_ai.dataset import Sample
    from inspect_ai.scorer import match
    from inspect_ai.solver import generate

    return Task(
        dataset=[Sample(input=f"Say hello #{i}", target="Hello") for i in range(N_SAMPLES)],
        solver=generate(),
        scorer=match(),
        name="hundred",
    )


def outputs_json(n: int = N_SAMPLES) -> list[dict[str, Any]]:
    usage = {"input_tokens": 7, "output_tokens": 2, "total_tokens": 9}
    out = {
        "model": "mockllm/model",
        "choices": [{"message": {"role": "assistant", "content": "Hello"}, "stop_reason": "stop"}],
        "usage": usage,
    }
    return [out] * n


def direct_eval(log_dir: str) -> float:
    """``inspect_ai.eval`` on the task, as a user would call it; seconds."""
    from inspect_ai import eval as inspect_eval
    from inspect_ai.model import ModelOutput

    outs = [ModelOutput.model_validate(o) for o in outputs_json()]
    t0 = time.perf_counter()
    (log,) = inspect_eval(
        hundred_samples(),
        model="mockllm/model",
        model_args={"custom_outputs": outs},
        log_dir=log_dir,
        display="none",
    )
    dt = time.perf_counter() - t0
    assert (
        log.status == "success"
        and log.results is not None
        and log.results.completed_samples == N_SAMPLES
    )
    return dt


def backend_eval(backend: Any, model: Any) -> float:
    """The backend's ``evaluate`` on the same task (validation, worker round trip, results); seconds."""
    out = model.store.new_workspace("bench")
    t0 = time.perf_counter()
    res = asyncio.run(
        backend.evaluate(
            model,
            "bench_inspect_overhead:hundred_samples",
            {"model_args": {"custom_outputs": outputs_json()}},
            out,
        )
    )
    dt = time.perf_counter() - t0
    assert res.samples == {"hundred": N_SAMPLES}, res.samples
    return dt


def setup_backend(store_dir: str) -> tuple[Any, Any]:
    from motools.store.content_store import ContentStore
    from motools_inspect.backend import InspectBackend

    store = ContentStore(store_dir)
    model = store.create_atom(
        "model",
        "bench",
        None,
        {"provider": "inspect", "model_id": "mockllm/model", "base_model": "mockllm/model"},
    )
    return InspectBackend(), model


COLD_DIRECT = f"""
import sys, time; t0 = time.perf_counter(); sys.path.insert(0, {str(HERE)!r})
import bench_inspect_overhead as b; b.direct_eval(sys.argv[1]); print(time.perf_counter() - t0)
"""
COLD_BACKEND = f"""
import sys, time; t0 = time.perf_counter(); sys.path.insert(0, {str(HERE)!r})
import bench_inspect_overhead as b; backend, model = b.setup_backend(sys.argv[1]); b.backend_eval(backend, model)
print(time.perf_counter() - t0)
# wait for the worker to exit so that its CPU time is counted (at a normal exit the
# worker is told to stop and not waited for, so this is not part of the wall time)
from motools_inspect.worker_pool import shutdown_pools; shutdown_pools()
"""


def cold_run(code: str, arg: str) -> tuple[float, float]:
    """(wall, CPU) seconds of a fresh interpreter evaluating once.

    Wall: from the interpreter's first statement until the results are in.  CPU: user +
    system time of the process and of every process it waited for (the backend's
    worker), which other load on the machine inflates much less than wall time.
    """
    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run(
        [sys.executable, "-c", code, arg], check=True, capture_output=True, text=True
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    wall = float(out.stdout.strip().splitlines()[-1])
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def report(name: str, direct: list[float], backend: list[float]) -> bool:
    d, b = statistics.median(direct), statistics.median(backend)
    over = b - d
    allowed = max(0.10 * d, 0.5)
    ok = over <= allowed
    print(f"{name:>8}: direct {d:6.2f} s   backend {b:6.2f} s   overhead {over:+5.2f} s ({over / d:+6.1%})   "
          f"allowed {allowed:.2f} s   {'OK' if ok else 'OVER'}")  # fmt: skip
    best = min(backend) - min(direct)
    print(f"          fastest runs: overhead {best:+5.2f} s ({best / min(direct):+6.1%}); "
          f"direct runs {[round(x, 2) for x in direct]}, backend runs {[round(x, 2) for x in backend]}")  # fmt: skip
    return ok


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=5, help="warm repetitions per side")
    ap.add_argument("--cold-reps", type=int, default=3, help="cold repetitions per side (0: skip)")
    args = ap.parse_args()
    from motools_inspect.worker_pool import shutdown_pools

    print(f"{N_SAMPLES}-sample mockllm task; python {sys.version.split()[0]}, "
          f"PYTHONDONTWRITEBYTECODE={os.environ.get('PYTHONDONTWRITEBYTECODE', '')!r}, cpus {os.cpu_count()}")  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        backend, model = setup_backend(f"{tmp}/store")
        direct_eval(f"{tmp}/logs")  # warm both sides
        backend_eval(backend, model)
        direct, via_backend = [], []
        for _ in range(args.reps):
            direct.append(direct_eval(f"{tmp}/logs"))
            via_backend.append(backend_eval(backend, model))
        shutdown_pools()
        ok = report("warm", direct, via_backend)
        if args.cold_reps:
            cold_d, cold_b = [], []
            for i in range(args.cold_reps):
                cold_d.append(cold_run(COLD_DIRECT, f"{tmp}/cold-logs-{i}"))
                cold_b.append(cold_run(COLD_BACKEND, f"{tmp}/cold-store-{i}"))
            ok = report("cold", [w for w, _ in cold_d], [w for w, _ in cold_b]) and ok
            report("cold CPU", [c for _, c in cold_d], [c for _, c in cold_b])
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
