"""Sweep benchmarks (issue 9 targets).

- planning a 100-point grid (validate every point, cache status, shared work): <= 1 s;
- a 100-point sweep of instantaneous steps: <= 5 ms engine overhead per step;
- memory stays flat across repeated sweeps (RSS printed before / after each round).

The workflow: ``make`` (a one-row dataset) -> ``transform`` -> ``score`` (an ``eval``
atom), each step doing next to nothing, so wall time is the engine's and the sweep's
own cost (SQLite writes, cache lookups, leases, thread hops).  The 10 x 10 grid varies
``make`` so no two points share a step: 300 steps really run.

The engine-only baseline runs the same 100 configurations one ``run_workflow`` after
another, so the difference to the sequential sweep is the sweep layer's own cost;
``--breakdown`` times the store and engine functions a step goes through (all threads).

Usage: uv run python bench/bench_sweep.py [--rounds 5] [--breakdown] [--profile]
"""

from __future__ import annotations

import argparse
import collections
import cProfile
import functools
import gc
import json
import pstats
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from motools.store import get_store  # noqa: E402
from motools.sweep import SweepDefinition, plan_sweep, run_sweep  # noqa: E402
from motools.workflow import (  # noqa: E402
    AtomConstructor,
    Step,
    StepConfig,
    Workflow,
    WorkflowConfig,
    run_workflow,
)


class MakeConfig(StepConfig):
    a: int = 0
    b: int = 0


class PassConfig(StepConfig):
    k: int = 0


def make(config: MakeConfig, inputs: dict[str, Any], ws: Path) -> list[AtomConstructor]:
    p = ws / "d.jsonl"
    msgs = [
        {"role": "user", "content": f"{config.a}-{config.b}"},
        {"role": "assistant", "content": "ok"},
    ]
    p.write_text(json.dumps({"messages": msgs}) + "\n")
    return [AtomConstructor("data", p, "dataset", {"num_rows": 1})]


def transform(config: PassConfig, inputs: dict[str, Any], ws: Path) -> list[AtomConstructor]:
    p = ws / "t.jsonl"
    p.write_text(inputs["data"].jsonl_path.read_text())
    return [AtomConstructor("transformed", p, "dataset", {"num_rows": 1})]


def score(config: PassConfig, inputs: dict[str, Any], ws: Path) -> list[AtomConstructor]:
    row = next(inputs["transformed"].iter_rows())
    a, b = (int(x) for x in row["messages"][0]["content"].split("-"))
    results = {"bench": {"match": {"accuracy": (a * 7 + b) % 10 / 10}}}
    return [AtomConstructor("eval_results", None, "eval", {"results": results})]


class BenchConfig(WorkflowConfig):
    make: MakeConfig = MakeConfig()
    transform: PassConfig = PassConfig()
    score: PassConfig = PassConfig()


workflow = Workflow(
    "sweep_bench",
    {},
    [
        Step("make", make, {}, {"data": "dataset"}, MakeConfig),
        Step("transform", transform, {"data": "dataset"}, {"transformed": "dataset"}, PassConfig),
        Step("score", score, {"transformed": "dataset"}, {"eval_results": "eval"}, PassConfig),
    ],
    BenchConfig,
)


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def grid(offset: int = 0) -> dict[str, list[int]]:
    return {"make.a": list(range(offset, offset + 10)), "make.b": list(range(10))}


def bench_plan(store: Any) -> None:
    defn = SweepDefinition(workflow, {}, grid())
    times = []
    for _ in range(5):
        t = time.perf_counter()
        plan = plan_sweep(defn, store=store, user="bench")
        times.append(time.perf_counter() - t)
    status = {p["status"] for p in plan["points"]}
    print(
        f"plan 100 points ({'/'.join(sorted(status))}): median {statistics.median(times) * 1000:.0f} ms (target <= 1000 ms)"
    )


def bench_plan_training(store: Any) -> None:
    """The same with the test training backend: backend validation and estimates per point."""
    try:
        from motools import plugins
        from tests.support import test_backend
        from tests.sweep import sweep_support
    except ImportError:
        return
    plugins.register_plugin(test_backend, name="bench_test_backend")
    plugins.register_plugin(sweep_support, name="bench_sweep_support")
    g = {
        "submit_training.hyperparameters.n_epochs": list(range(1, 11)),
        "evaluate_model.eval_kwargs.limit": list(range(1, 11)),
    }
    defn = SweepDefinition(sweep_support.sweep_test_workflow, sweep_support.base_config(), g)
    times = []
    for _ in range(5):
        t = time.perf_counter()
        plan_sweep(defn, store=store, user="bench")
        times.append(time.perf_counter() - t)
    print(
        f"plan 100 points of a train+evaluate workflow (test backend): median {statistics.median(times) * 1000:.0f} ms"
    )


def bench_run(store: Any, offset: int, max_parallel: int, label: str) -> float:
    t, c = time.perf_counter(), time.process_time()
    res = run_sweep(
        workflow, {}, grid(offset), user="bench", store=store, max_parallel=max_parallel
    )
    wall = time.perf_counter() - t
    cpu = (time.process_time() - c) / 300 * 1000
    assert res.ok, res.counts()
    steps = sum(len(p.state.step_states) for p in res.points if p.state is not None)
    cached = all(p.cached for p in res.points)
    per = wall / steps * 1000
    print(
        f"{label}: 100 points, {steps} steps {'(all cached)' if cached else 'executed'}, "
        f"max_parallel={max_parallel}: {wall:.2f} s, {per:.2f} ms per step (CPU {cpu:.2f} ms)"
    )
    return per


def bench_engine_only(store: Any, offset: int) -> float:
    configs = [
        {"make": {"a": a, "b": b}} for a in grid(offset)["make.a"] for b in grid(offset)["make.b"]
    ]
    t, c = time.perf_counter(), time.process_time()
    for cfg in configs:
        run_workflow(workflow, {}, cfg, "bench", store=store)
    wall = time.perf_counter() - t
    per, cpu = wall / 300 * 1000, (time.process_time() - c) / 300 * 1000
    print(
        f"engine only: 100 run_workflow calls in a row, 300 steps executed: {wall:.2f} s, "
        f"{per:.2f} ms per step (CPU {cpu:.2f} ms)"
    )
    return per


def breakdown(store: Any) -> None:
    """Where a sequential sweep's time goes, summed over threads."""
    import motools.store.content_store as cs
    import motools.store.leases as leases
    import motools.sweep.execution as ex
    import motools.workflow.cache as cache
    import motools.workflow.engine as eng

    spent: collections.Counter[str] = collections.Counter()
    calls: collections.Counter[str] = collections.Counter()
    lock = threading.Lock()
    undo = []

    def wrap(owner: Any, name: str, label: str) -> None:
        f = getattr(owner, name)

        @functools.wraps(f)
        def timed(*a: Any, **k: Any) -> Any:
            t = time.perf_counter()
            try:
                return f(*a, **k)
            finally:
                with lock:
                    spent[label] += time.perf_counter() - t
                    calls[label] += 1

        setattr(owner, name, timed)
        undo.append((owner, name, f))

    wrap(cs.ContentStore, "create_atom", "store: create_atom (total)")
    wrap(cs, "_fsync_dir", "store: fsync of directories (in create_atom)")
    wrap(eng, "save_run", "engine: save_run (run state per transition)")
    wrap(eng.shutil, "rmtree", "engine: remove step workspace (on the event loop)")
    wrap(cache.StepCache, "put", "engine: cache put")
    wrap(cache.StepCache, "lookup", "engine: cache lookup")
    wrap(leases, "try_acquire", "engine: lease acquire")
    wrap(leases, "release", "engine: lease release")
    wrap(eng, "redact", "engine: redact configs")
    wrap(ex, "save_point", "sweep: save point record")
    wrap(ex, "save_sweep", "sweep: save sweep record")
    t = time.perf_counter()
    run_sweep(workflow, {}, grid(90_000), user="bench", store=store, max_parallel=1)
    wall = time.perf_counter() - t
    for owner, name, f in undo:
        setattr(owner, name, f)
    print(
        f"breakdown of a sequential 100-point sweep (300 steps, wall {wall:.2f} s = {wall / 300 * 1000:.2f} ms per step):"
    )
    rest = wall - spent["store: create_atom (total)"]
    print(f"  everything but storing atoms: {rest / 300 * 1000:.2f} ms per step")
    for label, sec in spent.most_common():
        print(
            f"  {label:52s} {sec * 1000:7.0f} ms  {sec / 300 * 1000:5.2f} ms/step  ({calls[label]} calls)"
        )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument(
        "--rounds", type=int, default=5, help="fresh 100-point sweeps for the memory check"
    )
    ap.add_argument(
        "--repeat", type=int, default=3, help="repetitions of each timing (min and median shown)"
    )
    ap.add_argument(
        "--breakdown", action="store_true", help="time the store / engine functions of one sweep"
    )
    ap.add_argument(
        "--profile", action="store_true", help="print the top functions of one fresh sweep"
    )
    args = ap.parse_args()
    root = Path(tempfile.mkdtemp(prefix="motools-sweep-bench-"))
    store = get_store(root / "store")
    print(f"RSS at start: {rss_mb():.0f} MB")
    bench_plan(store)
    bench_run(store, 0, 4, "fresh sweep")
    bench_plan(store)
    bench_run(store, 0, 4, "re-run   ")
    bench_plan_training(store)
    # Interleaved so that load from other processes hits every variant alike.
    times: dict[str, list[float]] = collections.defaultdict(list)
    offset = 1000
    for _ in range(args.repeat):
        times["engine only, sequential"].append(bench_engine_only(store, offset))
        for mp in (1, 4, 8):
            times[f"sweep, max_parallel={mp}"].append(
                bench_run(store, offset + 100 * mp, mp, "fresh sweep")
            )
        offset += 1000
    print("per executed step (ms), min / median over repetitions:")
    for label, ts in times.items():
        print(f"  {label:28s} {min(ts):6.2f} / {statistics.median(ts):6.2f}")
    print(f"RSS after warm-up: {rss_mb():.1f} MB")
    for r in range(args.rounds):
        before = rss_mb()
        bench_run(store, 100_000 + 100 * r, 4, f"round {r + 1}   ")
        gc.collect()
        print(
            f"  RSS {before:.1f} MB -> {rss_mb():.1f} MB, live Python objects {len(gc.get_objects())}"
        )
    if args.breakdown:
        breakdown(store)
    if args.profile:
        prof = cProfile.Profile()
        prof.enable()
        run_sweep(workflow, {}, grid(50_000), user="bench", store=store, max_parallel=4)
        prof.disable()
        pstats.Stats(prof).sort_stats("tottime").print_stats(15)


if __name__ == "__main__":
    main()
