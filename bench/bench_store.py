"""Store benchmarks (issue 3 targets).

- creating a small atom with 10,000 atoms already in the store: <= 5 ms each;
- hashing a 1 GB file: >= 500 MB/s with memory independent of file size;
- `lineage` on a 10,000-atom store: <= 50 ms of query time.

Usage: uv run python bench/bench_store.py [--atoms 10000] [--gb 1]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import tempfile
import time
from pathlib import Path

from motools.store import ContentStore
from motools.store.hashing import hash_file


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--atoms", type=int, default=10_000)
    ap.add_argument("--gb", type=float, default=1.0)
    args = ap.parse_args()
    root = Path(tempfile.mkdtemp(prefix="motools-bench-"))
    store = ContentStore(root / "store")
    src = root / "row.jsonl"

    # Fill the store the way workflows do: dataset -> training_job -> model -> eval chains,
    # a few shared datasets feeding many jobs.
    t0 = time.perf_counter()
    fill_times = []
    datasets = []
    last_eval = None
    i = 0
    while i < args.atoms:
        if len(datasets) < 50 or i % 40 == 0:
            src.write_text(f'{{"messages": [{{"role": "user", "content": "{i}"}}]}}\n')
            t = time.perf_counter()
            datasets.append(store.create_atom("dataset", "bench", src, {"i": i}))
            fill_times.append(time.perf_counter() - t)
            i += 1
            continue
        ds = datasets[i % len(datasets)]
        t = time.perf_counter()
        job = store.create_atom(
            "training_job",
            "bench",
            None,
            {"job_id": f"j{i}", "backend": "x"},
            parents={"prepared_dataset": ds.id},
        )
        model = store.create_atom(
            "model", "bench", None, {"provider": "x", "model_id": f"m{i}"}, parents={"job": job.id}
        )
        last_eval = store.create_atom(
            "eval",
            "bench",
            None,
            {"results": {"t": {"s": {"accuracy": i / args.atoms}}}, "model": model.id},
            parents={"model": model.id},
        )
        fill_times.append((time.perf_counter() - t) / 3)
        i += 3
    total = store.stats()["total_atoms"]
    print(
        f"filled {total} atoms in {time.perf_counter() - t0:.1f} s "
        f"(first 1000: median {statistics.median(fill_times[:1000]) * 1000:.2f} ms, "
        f"last 1000: median {statistics.median(fill_times[-1000:]) * 1000:.2f} ms)"
    )

    # Creating one more small atom with the store full.
    times = []
    for i in range(200):
        src.write_text(f'{{"messages": [{{"role": "user", "content": "extra {i}"}}]}}\n')
        t = time.perf_counter()
        store.create_atom("dataset", "bench", src, {"extra": i})
        times.append(time.perf_counter() - t)
    print(
        f"create small atom with {total} in store: median {statistics.median(times) * 1000:.2f} ms, "
        f"p95 {sorted(times)[int(len(times) * 0.95)] * 1000:.2f} ms  (target <= 5 ms)"
    )

    # Lineage: an eval's ancestry (eval <- model <- job <- dataset) and a shared
    # dataset's descendants (hundreds of atoms).
    assert last_eval is not None
    for label, aid, down in (
        ("eval ancestry", last_eval.id, False),
        ("shared dataset descendants", datasets[0].id, True),
    ):
        lt = []
        for _ in range(20):
            t = time.perf_counter()
            tree = store.lineage(aid, down=down)
            lt.append(time.perf_counter() - t)
        n = 0
        todo = [tree]
        while todo:
            node = todo.pop()
            n += 1
            todo += node["children" if down else "parents"]
        print(
            f"lineage ({label}, {n} nodes) in a {total}-atom store: median {statistics.median(lt) * 1000:.2f} ms  (target <= 50 ms)"
        )

    # Hashing a large file.
    big = root / "big.bin"
    size = int(args.gb * 1024**3)
    chunk = os.urandom(1 << 20)
    with open(big, "wb") as f:
        for _ in range(size // len(chunk)):
            f.write(chunk)
    rss_before = rss_mb()
    t = time.perf_counter()
    hash_file(big)
    dt = time.perf_counter() - t
    print(
        f"hash {size / 1e9:.2f} GB: {dt:.2f} s = {size / dt / 1e6:.0f} MB/s (target >= 500 MB/s); "
        f"max RSS {rss_before:.0f} MB before, {rss_mb():.0f} MB after"
    )
    t = time.perf_counter()
    store.create_atom("dataset", "bench", big, {"big": True})
    dt = time.perf_counter() - t
    print(
        f"store a {size / 1e9:.2f} GB atom (copy + hash + fsync): {dt:.2f} s = {size / dt / 1e6:.0f} MB/s; max RSS {rss_mb():.0f} MB"
    )


if __name__ == "__main__":
    main()
