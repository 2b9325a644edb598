"""Running a sweep: every point is a workflow run through the engine, in one event loop.

Scheduling: up to ``max_parallel`` points run at once.  A point whose steps overlap
(same structural key, see :mod:`motools.sweep.planning`) with a step still running in
another point waits until that step has finished, then finds it in the cache; so
points that differ only in evaluation settings share one training job, and slots go
to points with distinct work.  Across processes the engine's per-cache-key lease joins
identical steps in flight.  A failed point never stops the others; points that share
the failed step are marked ``skipped`` (not re-submitted in the same invocation).
Re-running the same definition resumes: finished steps are cache hits.
"""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

from motools._sync import run_sync
from motools.errors import MotoolsError
from motools.store import ContentStore, get_store
from motools.sweep.definition import SweepDefinition
from motools.sweep.planning import PreparedSweep, prepare_sweep
from motools.sweep.records import previous_runs, save_point, save_sweep
from motools.sweep.result import PointResult, SweepResult, sweep_status

EventFn = Callable[[dict[str, Any]], None]


def _new_run_id() -> str:
    return time.strftime("%Y%m%d-%H%M%S-", time.gmtime()) + uuid.uuid4().hex[:8]


class _SweepRun:
    def __init__(
        self,
        prep: PreparedSweep,
        store: ContentStore,
        user: str,
        max_parallel: int,
        step_parallel: int,
        on_event: EventFn | None,
        no_cache: bool,
    ):
        from motools.workflow.config import redact

        self.prep, self.store, self.user = prep, store, user
        self.max_parallel = max(1, int(max_parallel))
        self.step_parallel = max(1, int(step_parallel))
        self.on_event, self.no_cache = on_event, no_cache
        defn = prep.definition
        sid = defn.sweep_id(user)
        history = previous_runs(store, sid)
        points = [
            PointResult(
                p.index,
                p.params,
                p.replicate,
                p.seeds,
                redact(p.config),
                runs=list(history.get(p.index, [])),
            )
            for p in prep.points
        ]
        self.result = SweepResult(
            sweep_id=sid,
            workflow=prep.workflow.name,
            user=user,
            points=points,
            param_names=prep.param_names,
            status="running",
            name=defn.name,
            source=defn.source,
            definition=defn.record(),
        )
        # Scheduling state: structural keys still open per running point, and which
        # point (with which error) failed a key.
        self.keys = [{k for k in sk.values() if k} for sk in prep.step_keys]
        self.open: dict[int, set[str]] = {}
        self.inflight: dict[str, int] = {}
        self.failed_keys: dict[str, tuple[int, str, str]] = {}
        self.wake = asyncio.Event()
        self.loop_thread = threading.get_ident()

    # -- events ------------------------------------------------------------------
    def emit(self, event: dict[str, Any]) -> None:
        event.setdefault("sweep_id", self.result.sweep_id)
        if self.on_event is not None:
            try:
                self.on_event(event)
            except Exception:  # a broken display must not break the sweep
                pass

    def _point_event(self, index: int, event: dict[str, Any]) -> None:
        event = {**event, "point": index}
        if event.get("event") == "step_end" and threading.get_ident() == self.loop_thread:
            key = self.prep.step_keys[index].get(str(event.get("step")))
            if key:
                self._close_key(index, key)
                if event.get("status") == "failed":
                    self.failed_keys.setdefault(
                        key, (index, str(event.get("step")), str(event.get("error")))
                    )
            self.wake.set()
        self.emit(event)

    def _close_key(self, index: int, key: str) -> None:
        keys = self.open.get(index)
        if keys and key in keys:
            keys.discard(key)
            n = self.inflight.get(key, 0) - 1
            if n > 0:
                self.inflight[key] = n
            else:
                self.inflight.pop(key, None)

    # -- scheduling --------------------------------------------------------------
    def _pick(self, pending: list[int]) -> int | None:
        for i in pending:
            if not any(k in self.inflight for k in self.keys[i]):
                return i
        return None

    def _skip_failed(self, pending: list[int]) -> None:
        if not self.failed_keys:
            return
        for i in list(pending):
            hit = next((self.failed_keys[k] for k in self.keys[i] if k in self.failed_keys), None)
            if hit is None:
                continue
            j, step, err = hit
            p = self.result.points[i]
            p.status = "skipped"
            p.error = (
                f"not run: it shares step {step!r} with point {j}, which failed in this sweep ({err}); "
                "re-run the sweep to retry"
            )
            pending.remove(i)
            save_point(self.store, self.result.sweep_id, p)
            self.emit(
                {
                    "event": "point_end",
                    "point": i,
                    "status": "skipped",
                    "error": p.error,
                    "params": p.params,
                    "replicate": p.replicate,
                }
            )

    async def run(self) -> SweepResult:
        res = self.result
        await asyncio.to_thread(save_sweep, self.store, res)
        self.emit(
            {
                "event": "sweep_start",
                "points": len(res.points),
                "workflow": res.workflow,
                "max_parallel": self.max_parallel,
                "param_names": res.param_names,
                "replicates": self.prep.definition.replicates,
            }
        )
        pending = list(range(len(res.points)))
        running: dict[int, asyncio.Task[None]] = {}
        try:
            while pending or running:
                self._skip_failed(pending)
                while pending and len(running) < self.max_parallel:
                    i = self._pick(pending)
                    if i is None:
                        if running:
                            break
                        i = pending[0]
                    pending.remove(i)
                    self.open[i] = set(self.keys[i])
                    for k in self.keys[i]:
                        self.inflight[k] = self.inflight.get(k, 0) + 1
                    task = asyncio.create_task(self._run_point(i))
                    task.add_done_callback(lambda _t: self.wake.set())
                    running[i] = task
                if not running:
                    continue
                await self.wake.wait()
                self.wake.clear()
                for i, task in list(running.items()):
                    if task.done():
                        del running[i]
                        for k in list(self.open.get(i, ())):
                            self._close_key(i, k)
                        task.result()
        except BaseException:
            for task in running.values():
                task.cancel()
            await asyncio.gather(*running.values(), return_exceptions=True)
            for p in res.points:
                if p.status == "running":
                    p.status, p.error = "interrupted", p.error or "interrupted"
            res.status = "interrupted"
            save_sweep(self.store, res)
            raise
        res.status = sweep_status(res.points)
        await asyncio.to_thread(save_sweep, self.store, res)
        self.emit({"event": "sweep_end", "status": res.status, "counts": res.counts()})
        return res

    async def _run_point(self, i: int) -> None:
        from motools.workflow.engine import arun_workflow

        p = self.result.points[i]
        sp = self.prep.points[i]
        p.run_id = _new_run_id()
        p.runs.append(p.run_id)
        p.status, p.error, p.outputs, p.cached = "running", None, {}, False
        t0 = time.perf_counter()
        await asyncio.to_thread(save_point, self.store, self.result.sweep_id, p)
        self.emit(
            {
                "event": "point_start",
                "point": i,
                "params": p.params,
                "replicate": p.replicate,
                "run_id": p.run_id,
            }
        )
        try:
            state = await arun_workflow(
                self.prep.workflow,
                sp.input_atoms,
                self.prep.configs[i],
                self.user,
                store=self.store,
                max_parallel=self.step_parallel,
                run_id=p.run_id,
                no_cache=self.no_cache,
                on_event=lambda e: self._point_event(i, e),
                raise_on_failure=False,
                config_source=f"{self.prep.definition.source} (sweep {self.result.sweep_id} point {i})",
            )
        except (asyncio.CancelledError, KeyboardInterrupt):
            p.status, p.error, p.duration = "interrupted", "interrupted", time.perf_counter() - t0
            save_point(self.store, self.result.sweep_id, p)
            raise
        except Exception as e:  # one point's crash never aborts the others
            p.status = "failed"
            p.error = str(e) if isinstance(e, MotoolsError) else f"{type(e).__name__}: {e}"
        else:
            p.state = state
            p.outputs = state.outputs
            if state.status == "succeeded":
                p.status = "succeeded"
                p.cached = all(s.status in ("cached", "skipped") for s in state.step_states)
            else:
                p.status = "failed"
                p.error = "; ".join(
                    f"{s.name}: {s.error}" for s in state.step_states if s.status == "failed"
                ) or (state.error or "failed")
        p.duration = time.perf_counter() - t0
        await asyncio.to_thread(save_point, self.store, self.result.sweep_id, p)
        self.emit(
            {
                "event": "point_end",
                "point": i,
                "status": p.status,
                "error": p.error,
                "cached": p.cached,
                "duration": p.duration,
                "params": p.params,
                "replicate": p.replicate,
                "run_id": p.run_id,
            }
        )


def _definition(
    workflow: Any,
    base_config: Any,
    grid: dict[str, list[Any]] | None,
    replicates: int,
    seed_paths: list[str] | None,
    input_atoms: dict[str, str] | None,
    name: str | None,
) -> SweepDefinition:
    if isinstance(workflow, SweepDefinition):
        if base_config is not None or grid is not None:
            raise TypeError(
                "pass either a SweepDefinition or workflow + base_config + grid, not both"
            )
        return workflow
    return SweepDefinition(
        workflow,
        base_config if base_config is not None else {},
        dict(grid or {}),
        replicates,
        None if seed_paths is None else list(seed_paths),
        dict(input_atoms or {}),
        name,
    )


async def arun_sweep(
    workflow: Any,
    base_config: Any = None,
    grid: dict[str, list[Any]] | None = None,
    *,
    replicates: int = 1,
    seed_paths: list[str] | None = None,
    input_atoms: dict[str, str] | None = None,
    max_parallel: int = 4,
    step_parallel: int = 4,
    user: str | None = None,
    store: ContentStore | str | None = None,
    name: str | None = None,
    on_event: EventFn | None = None,
    progress: bool = False,
    no_cache: bool = False,
) -> SweepResult:
    """Run every point of a sweep and return its :class:`SweepResult` (async).

    ``workflow`` is a :class:`~motools.workflow.Workflow`, a registered workflow name, or
    a whole :class:`SweepDefinition` (e.g. from :func:`load_sweep_file`).  ``grid`` maps
    dotted config paths to value lists (their product is taken); ``replicates`` repeats
    each point, adding the replicate index to every seed path.  Every point is
    validated before any runs.  ``max_parallel`` bounds the points running at once,
    ``step_parallel`` the steps within a point.  Failed points are reported in the
    result, never raised; ``progress=True`` shows a live display on stderr.
    """
    from motools.atoms.ids import validate_user
    from motools.settings import default_user

    defn = _definition(workflow, base_config, grid, replicates, seed_paths, input_atoms, name)
    st = store if isinstance(store, ContentStore) else get_store(store)
    user = validate_user(user or default_user())
    prep = await asyncio.to_thread(prepare_sweep, defn, st)
    display = None
    if progress:
        from motools.sweep.progress import SweepProgress

        display = SweepProgress()
    callback = on_event
    if display is not None:

        def callback(e: dict[str, Any]) -> None:
            display(e)
            if on_event is not None:
                on_event(e)

    run = _SweepRun(prep, st, user, max_parallel, step_parallel, callback, no_cache)
    try:
        return await run.run()
    finally:
        if display is not None:
            display.close()


def run_sweep(
    workflow: Any, base_config: Any = None, grid: dict[str, list[Any]] | None = None, **kwargs: Any
) -> SweepResult:
    """Run a sweep synchronously; see :func:`arun_sweep` for the arguments.

    ```python
    result = run_sweep(train_and_evaluate_workflow, config,
                       grid={"submit_training.hyperparameters.n_epochs": [1, 3]}, replicates=3)
    df = collate(result)
    ```
    """
    return run_sync(arun_sweep(workflow, base_config, grid, **kwargs))
