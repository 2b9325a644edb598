"""Several evaluations at once: each runs in its own worker process, really concurrently."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from tests.inspect.conftest import TASKS
from tests.inspect.scripted_outputs import mock_outputs

SLOW = {
    "task_args": {"seconds": 1.0, "n": 2},
    "model_args": {"custom_outputs": mock_outputs("Hello", 2)},
}


def test_three_concurrent_evaluations_overlap(
    backend: Any, mock_model: Any, inspect_store: Any
) -> None:
    from motools_inspect.store_dirs import InspectDirs
    from motools_inspect.worker_pool import get_pool

    pool = get_pool(InspectDirs.for_store(inspect_store.root).ensure())
    pool.prestart(3)  # time evaluations, not worker start-up

    async def one() -> Any:
        return await backend.evaluate(
            mock_model, f"{TASKS}:slow", dict(SLOW), inspect_store.new_workspace("eval-out")
        )

    async def concurrent() -> list[Any]:
        return list(await asyncio.gather(one(), one(), one()))

    t0 = time.perf_counter()
    alone = asyncio.run(one())
    one_wall = time.perf_counter() - t0
    t0 = time.perf_counter()
    together = asyncio.run(concurrent())
    concurrent_wall = time.perf_counter() - t0

    for r in [alone, *together]:
        assert r.results == {"slow": {"match": {"accuracy": 1.0, "stderr": 0.0}}}
    assert len(pool.worker_pids()) >= 3
    # each evaluation waits >= 1 s: serialized, three would take ~3x as long as one
    serial_sum = 3 * one_wall
    print(
        f"one {one_wall:.2f}s, three concurrently {concurrent_wall:.2f}s (serial sum {serial_sum:.2f}s)"
    )
    assert concurrent_wall < 0.7 * serial_sum, (concurrent_wall, one_wall)


def test_concurrent_evaluations_from_separate_event_loops(
    backend: Any, mock_model: Any, inspect_store: Any
) -> None:
    """Workflow runs in threads each have their own event loop; the pool serves them all."""
    import threading

    results: list[Any] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            out = inspect_store.new_workspace("eval-out")
            results.append(
                asyncio.run(backend.evaluate(mock_model, f"{TASKS}:slow", dict(SLOW), out))
            )
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert [r.samples for r in results] == [{"slow": 2}, {"slow": 2}]


def test_cancelling_an_evaluation_kills_its_worker(
    backend: Any, mock_model: Any, inspect_store: Any
) -> None:
    from motools_inspect.store_dirs import InspectDirs
    from motools_inspect.worker_pool import get_pool

    pool = get_pool(InspectDirs.for_store(inspect_store.root).ensure())
    pool.prestart(1)
    before = set(pool.worker_pids())
    slow = {
        "task_args": {"seconds": 30.0, "n": 1},
        "model_args": {"custom_outputs": mock_outputs("Hello", 1)},
    }

    async def main() -> None:
        task = asyncio.ensure_future(
            backend.evaluate(
                mock_model, f"{TASKS}:slow", slow, inspect_store.new_workspace("eval-out")
            )
        )
        await asyncio.sleep(1.5)
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            pass

    t0 = time.perf_counter()
    asyncio.run(main())
    assert time.perf_counter() - t0 < 10
    deadline = time.time() + 5
    while time.time() < deadline and set(pool.worker_pids()) >= before:
        time.sleep(0.1)
    assert not set(pool.worker_pids()) >= before, "the cancelled evaluation's worker should be gone"


def test_idle_workers_are_capped(inspect_store: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """At most MOTOOLS_INSPECT_MAX_WORKERS idle workers stay alive; the longest idle go first."""
    from motools_inspect.store_dirs import InspectDirs
    from motools_inspect.worker_pool import _trim_idle_workers, get_pool

    pool = get_pool(InspectDirs.for_store(inspect_store.root).ensure())
    pool.prestart(2)  # free after the tests above (their workers are idle now)
    newest = max(pool.idle_workers(), key=lambda w: w.idle_since)
    monkeypatch.setenv("MOTOOLS_INSPECT_MAX_WORKERS", "1")
    _trim_idle_workers()
    assert pool.worker_pids() == [newest.pid]
