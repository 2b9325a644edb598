"""Overhead of the openai backend against the loopback fake server (ms per operation).

Measures what motools adds around the provider's own latency: pre-flight (row checks and
token estimate), upload (first time, and the reuse check), submit (new job: tag lookups
plus a guarded create; re-submit: adoption), and one poll (job + new events).  A bare
SDK ``jobs.retrieve`` is timed as the baseline round trip.

    uv run python bench/bench_openai_overhead.py [--rows 2000] [--repeat 30]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

KEY = "sk-bench-0123456789abcdef"


def timed(fn: Callable[[], Any], repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000)
    return out


def row(name: str, ms: list[float]) -> str:
    ms = sorted(ms)
    p95 = ms[min(len(ms) - 1, int(len(ms) * 0.95))]
    return f"{name:<44} {statistics.median(ms):>9.2f} {p95:>9.2f} {len(ms):>6}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=2000)
    ap.add_argument("--repeat", type=int, default=30)
    args = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="bench-openai-"))
    os.environ.update(MOTOOLS_HOME=str(tmp / "home"), MOTOOLS_LOAD_PLUGINS="", OPENAI_API_KEY=KEY)

    from motools import plugins
    from motools.store import get_store
    from motools_openai import submission
    from motools_openai.backend import OpenAIBackend
    from motools_openai.options import parse_options
    from motools_openai.preflight import run_preflight
    from tests.openai.openai_train_workflow import write_chat_dataset
    from tests.support.fake_openai_server import FakeOpenAIServer

    plugins.register_plugin(
        __import__("motools_openai.plugin", fromlist=["x"]), name="motools_openai.plugin"
    )
    store = get_store(tmp / "store")
    path = write_chat_dataset(tmp / "d.jsonl", args.rows)
    ds = store.create_atom("dataset", "bench", path, {})
    size_kb = path.stat().st_size / 1024

    with FakeOpenAIServer(api_key=KEY) as server:
        os.environ["OPENAI_BASE_URL"] = server.base_url
        server.plan_next_job(["running"] * 10**6)
        backend = OpenAIBackend()
        endpoint = parse_options({}).endpoint
        client, _ = backend._client(endpoint)
        results = []

        results.append(
            row(
                f"pre-flight, {args.rows} rows ({size_kb:.0f} KiB)",
                timed(
                    lambda: run_preflight(path, "gpt-4o-mini", "bench"), max(3, args.repeat // 5)
                ),
            )
        )

        def fresh_upload() -> None:
            for k in list(
                store.index.query("SELECT key FROM kv WHERE namespace=?", (submission.FILES_NS,))
            ):
                store.kv_delete(submission.FILES_NS, k[0])
            submission.upload_once(client, endpoint, path, store, KEY, lambda m: None)

        results.append(
            row(f"upload (new file, {size_kb:.0f} KiB)", timed(fresh_upload, args.repeat))
        )
        results.append(
            row(
                "upload (reuse: hash + files.retrieve)",
                timed(
                    lambda: submission.upload_once(
                        client, endpoint, path, store, KEY, lambda m: None
                    ),
                    args.repeat,
                ),
            )
        )

        backend.estimate(ds, "gpt-4o-mini", {}, {})  # warm the pre-flight memo, as a run does
        keys = iter(hashlib.sha256(str(i).encode()).hexdigest() for i in range(10**6))
        handles: list[dict[str, Any]] = []
        results.append(
            row(
                "submit, new job (lookups + guarded create)",
                timed(
                    lambda: handles.append(
                        backend.submit(ds, "gpt-4o-mini", {}, None, next(keys), {}, store)
                    ),
                    args.repeat,
                ),
            )
        )
        first_key = _key_of(server, handles[0])
        results.append(
            row(
                "submit, existing job (adopt)",
                timed(
                    lambda: backend.submit(ds, "gpt-4o-mini", {}, None, first_key, {}, store),
                    args.repeat,
                ),
            )
        )
        h = handles[0]
        results.append(
            row(
                "poll: status() (retrieve + events)",
                timed(lambda: backend.status(h, store), args.repeat * 3),
            )
        )
        results.append(
            row(
                "baseline: bare SDK jobs.retrieve",
                timed(lambda: client.fine_tuning.jobs.retrieve(h["job_id"]), args.repeat * 3),
            )
        )
        n_jobs = len(server.state.jobs)

    print(
        f"openai backend overhead vs loopback fake server (python {sys.version.split()[0]}, {os.cpu_count()} cpus)"
    )
    print(f"{'operation':<44} {'median ms':>9} {'p95 ms':>9} {'n':>6}")
    print("\n".join(results))
    print(f"jobs on server: {n_jobs} (one per distinct key)")


def _key_of(server: Any, handle: dict[str, Any]) -> str:
    return str(server.state.jobs[handle["job_id"]]["metadata"]["motools_cache_key"])


if __name__ == "__main__":
    main()
