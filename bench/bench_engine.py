"""Workflow engine benchmarks (issue 4 targets).

- fully cached re-run of a 4-step workflow as a whole `motools workflow run` process: <= 1.0 s;
- engine overhead per cached step in-process: <= 5 ms;
- 1,000-step fully cached no-op run: <= 2 s;
- dry-run plan of 100 configurations: <= 1 s;
- two independent 1-second steps: finish together in < 1.5 s.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from engine_bench_workflows import chain, four_steps, parallel  # noqa: E402
from motools.store import get_store  # noqa: E402
from motools.workflow import plan_workflow, run_workflow  # noqa: E402


def main() -> None:
    root = Path(tempfile.mkdtemp(prefix="motools-bench-"))
    env = dict(
        os.environ, MOTOOLS_HOME=str(root / "cli-store"), PYTHONPATH=str(Path(__file__).parent)
    )
    cfg = root / "four.yaml"
    cfg.write_text("s0: {n: 0}\ns1: {n: 1}\ns2: {n: 2}\ns3: {n: 3}\n")
    motools = str(Path(sys.executable).parent / "motools")
    cmd = [
        motools,
        "workflow",
        "run",
        "engine_bench_workflows:four_steps",
        "--config",
        str(cfg),
        "--user",
        "bench",
    ]
    subprocess.run(cmd, env=env, capture_output=True, check=True)
    times = []
    for _ in range(10):
        t = time.perf_counter()
        subprocess.run(cmd, env=env, capture_output=True, check=True)
        times.append(time.perf_counter() - t)
    print(
        f"cached re-run of a 4-step workflow, whole process: median {statistics.median(times) * 1000:.0f} ms (target <= 1000 ms)"
    )

    store = get_store(root / "store")
    run_workflow(four_steps, {}, four_steps.config_class(), "bench", store=store)
    per = []
    for _ in range(20):
        t = time.perf_counter()
        st = run_workflow(four_steps, {}, four_steps.config_class(), "bench", store=store)
        per.append((time.perf_counter() - t) / 4)
        assert all(s.cached for s in st.step_states)
    print(
        f"in-process overhead per cached step (4-step run): median {statistics.median(per) * 1000:.2f} ms (target <= 5 ms)"
    )

    big = chain(1000, "thousand")
    t = time.perf_counter()
    run_workflow(big, {}, big.config_class(), "bench", store=store)
    first = time.perf_counter() - t
    t = time.perf_counter()
    st = run_workflow(big, {}, big.config_class(), "bench", store=store)
    cached = time.perf_counter() - t
    assert all(s.cached for s in st.step_states)
    print(f"1,000-step no-op run: first {first:.2f} s, fully cached {cached:.2f} s (target <= 2 s)")

    t = time.perf_counter()
    for i in range(100):
        c = four_steps.config_class(s0={"n": 1000 + i})
        plan_workflow(four_steps, {}, c, store=store)
    print(f"dry-run plan of 100 configurations: {time.perf_counter() - t:.2f} s (target <= 1 s)")

    par = parallel(2)
    t = time.perf_counter()
    run_workflow(par, {}, par.config_class(), "bench", store=store, no_cache=True)
    print(f"two independent 1-second steps: {time.perf_counter() - t:.2f} s (target < 1.5 s)")


if __name__ == "__main__":
    main()
