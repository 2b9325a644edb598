"""The workflow engine: validate, plan, execute (in parallel), cache and record.

Independent steps run concurrently (asyncio; sync step functions in worker threads),
bounded by ``max_parallel``.  The state is persisted after every step transition and
is deterministic regardless of completion order (steps stay in declared order).
"""

from __future__ import annotations

import asyncio
import inspect
import os
import shutil
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from motools._sync import run_sync
from motools.atoms.base import Atom
from motools.errors import MotoolsError, StepFailed, UserError
from motools.settings import default_user
from motools.store import ContentStore, get_store, utcnow
from motools.store.leases import HOST, Lease
from motools.workflow.cache import StepCache, compute_key, explain_miss
from motools.workflow.config import redact
from motools.workflow.context import StepContext, reset_current, set_current
from motools.workflow.core import AtomConstructor, Step, Workflow
from motools.workflow.runs import save_run
from motools.workflow.state import StepState, WorkflowState
from motools.workflow.validation import coerce_config, validate_workflow

EventFn = Callable[[dict[str, Any]], None]


class WorkflowFailed(MotoolsError):
    """A run ended with a failed step; ``state`` holds everything that finished."""

    def __init__(self, state: WorkflowState):
        failed = [s for s in state.step_states if s.status == "failed"]
        msg = "; ".join(f"step '{s.name}' failed: {s.error}" for s in failed) or (
            state.error or "failed"
        )
        super().__init__(f"workflow {state.workflow_name!r} run {state.run_id} failed: {msg}")
        self.state = state


def _step_config_dump(config: Any, step: Step) -> Any:
    cfg = getattr(config, step.name, None)
    if cfg is None:
        return None
    if hasattr(cfg, "model_dump"):
        return redact(cfg.model_dump(mode="json"))
    return redact(cfg)


def step_key_material(config: Any, step: Step) -> tuple[Any, dict[str, Any]]:
    """What of a step's config goes into its cache key: (config part, extra identity)."""
    step_cfg = getattr(config, step.name, None)
    if step.cache_config is not None and step_cfg is not None:
        cfg_part = redact(step.cache_config(step_cfg))
    else:
        cfg_part = _step_config_dump(config, step)
    return cfg_part, _extra_identity(step, step_cfg)


def _new_run_id() -> str:
    return time.strftime("%Y%m%d-%H%M%S-", time.gmtime()) + uuid.uuid4().hex[:8]


def _extra_identity(step: Step, step_cfg: Any) -> dict[str, Any]:
    return step.cache_identity(step_cfg) if step.cache_identity is not None else {}


class _Run:
    def __init__(
        self,
        workflow: Workflow,
        config: Any,
        store: ContentStore,
        state: WorkflowState,
        max_parallel: int,
        no_cache: bool,
        force: set[str],
        on_event: EventFn | None,
    ):
        self.wf, self.config, self.store, self.state = workflow, config, store, state
        self.cache = StepCache(store)
        self.max_parallel = max(1, int(max_parallel))
        self.no_cache, self.force = no_cache, force
        self.on_event = on_event
        self.stop = False
        self._lock = threading.Lock()
        self.index = {s.name: i for i, s in enumerate(workflow.steps)}

    def emit(self, event: dict[str, Any]) -> None:
        event.setdefault("run_id", self.state.run_id)
        if self.on_event is not None:
            try:
                self.on_event(event)
            except Exception:
                pass

    def persist(self, idx: int | None = None) -> None:
        with self._lock:
            save_run(self.store, self.state, None if idx is None else [idx])

    async def execute(self) -> None:
        deps = self.wf.dependencies()
        done = {s.name: asyncio.Event() for s in self.wf.steps}
        sem = asyncio.Semaphore(self.max_parallel)

        async def one(step: Step) -> None:
            st = self.state.step_states[self.index[step.name]]
            try:
                for producer in {p for p in deps[step.name].values() if p}:
                    await done[producer].wait()
                upstream_bad = [
                    p
                    for p in {p for p in deps[step.name].values() if p}
                    if self.state.step(p).status not in ("succeeded", "cached")
                ]
                if upstream_bad and all("reason" in self.state.step(p).info for p in upstream_bad):
                    st.status = "skipped"
                    st.info["reason"] = f"upstream optional step(s) {sorted(upstream_bad)} disabled"
                    await asyncio.to_thread(self.persist, self.index[step.name])
                    return
                if step.optional and getattr(self.config, step.name, None) is None:
                    st.status = "skipped"
                    st.error = None
                    st.info["reason"] = "disabled (no config given for this optional step)"
                    await asyncio.to_thread(self.persist, self.index[step.name])
                    return
                if upstream_bad or self.stop:
                    st.status = "skipped"
                    st.error = (
                        f"upstream step(s) {sorted(upstream_bad)} did not succeed"
                        if upstream_bad
                        else "workflow stopped after a failure"
                    )
                    await asyncio.to_thread(self.persist, self.index[step.name])
                    return
                async with sem:
                    if self.stop:
                        st.status = "skipped"
                        st.error = "workflow stopped after a failure"
                        await asyncio.to_thread(self.persist, self.index[step.name])
                        return
                    await self.run_step(step, st, deps[step.name])
            finally:
                done[step.name].set()

        tasks = [asyncio.create_task(one(s)) for s in self.wf.steps]
        try:
            await asyncio.gather(*tasks)
        except BaseException:
            for t in tasks:
                # a task already being cancelled (by gather) is finishing its cleanup, e.g.
                # releasing its lease: cancelling it again would interrupt that
                if not t.done() and not t.cancelling():
                    t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            raise

    def _resolve(self, step: Step, deps: dict[str, str | None]) -> dict[str, str]:
        out = {}
        for name in step.input_atom_types:
            producer = deps.get(name)
            out[name] = (
                self.state.input_atoms[name]
                if producer is None
                else self.state.step(producer).output_atoms[name]
            )
        return out

    async def run_step(self, step: Step, st: StepState, deps: dict[str, str | None]) -> None:
        idx = self.index[step.name]
        st.input_atoms = self._resolve(step, deps)
        atoms = {n: self.store.get_atom(a) for n, a in st.input_atoms.items()}
        step_cfg = getattr(self.config, step.name, None)
        cfg_dump = _step_config_dump(self.config, step)
        key_cfg, key_extra = step_key_material(self.config, step)
        key, parts = compute_key(
            step.identity,
            key_cfg,
            {n: a.hash for n, a in atoms.items()},
            key_extra,
            step.output_atom_types,
        )
        st.cache_key = key
        st.started_at = utcnow()
        t0 = time.perf_counter()
        forced = step.name in self.force
        if not self.no_cache and not forced:
            hit = self.cache.lookup(key)
            if hit is not None:
                self._mark_cached(st, hit, t0)
                await asyncio.to_thread(self._cached_bookkeeping, key, idx)
                self.emit(
                    {"event": "step_end", "step": step.name, "status": "cached", "info": st.info}
                )
                return
        st.status = "running"
        await asyncio.to_thread(self.persist, idx)
        self.emit({"event": "step_start", "step": step.name})
        lease = Lease(self.store, key)
        try:
            await lease.acquire()
            try:
                # Re-check even without waiting: another process may have finished this
                # key between our first lookup and taking the lease.
                if not self.no_cache and not forced:
                    hit = self.cache.lookup(key)
                    if hit is not None:
                        self._mark_cached(st, hit, t0)
                        st.info["joined"] = lease.waited
                        await asyncio.to_thread(self._cached_bookkeeping, key, idx)
                        self.emit(
                            {
                                "event": "step_end",
                                "step": step.name,
                                "status": "cached",
                                "info": st.info,
                            }
                        )
                        return
                outputs, info = await self._call(step, step_cfg, atoms, key, cfg_dump, st)
                self.cache.put(
                    key, step.name, self.wf.name, parts, outputs, self.state.run_id, info
                )
            finally:
                await lease.release()
        except (KeyboardInterrupt, asyncio.CancelledError):
            st.status = "failed"
            st.error = "interrupted"
            raise
        except Exception as e:
            st.status = "failed"
            # errors are stored and printed: a provider message may echo a secret
            st.error = redact(str(e) if isinstance(e, MotoolsError) else f"{type(e).__name__}: {e}")
            st.info["traceback"] = redact("".join(traceback.format_exception(e))[-4000:])
            invalid = getattr(e, "job_atom_id", None)
            if invalid:
                n = self.cache.invalidate_producing(invalid)
                st.info["invalidated_cache_entries"] = n
            st.finished_at = utcnow()
            st.duration = time.perf_counter() - t0
            self.stop = True
            await asyncio.to_thread(self.persist, idx)
            self.emit(
                {"event": "step_end", "step": step.name, "status": "failed", "error": st.error}
            )
            return
        st.output_atoms = outputs
        st.status = "succeeded"
        st.info.update(info)
        st.finished_at = utcnow()
        st.duration = time.perf_counter() - t0
        await asyncio.to_thread(self.persist, idx)
        self.emit(
            {
                "event": "step_end",
                "step": step.name,
                "status": "succeeded",
                "info": st.info,
                "duration": st.duration,
            }
        )

    def _mark_cached(self, st: StepState, hit: Any, t0: float) -> None:
        st.status = "cached"
        st.cached = True
        st.output_atoms = dict(hit.outputs)
        st.info.update({k: v for k, v in hit.extra.items() if k != "traceback"})
        st.info["cache_created_at"] = hit.created_at
        st.finished_at = utcnow()
        st.duration = time.perf_counter() - t0

    def _cached_bookkeeping(self, key: str, idx: int) -> None:
        self.cache.record_hit(key)
        self.persist(idx)

    async def _call(
        self,
        step: Step,
        step_cfg: Any,
        atoms: dict[str, Atom],
        key: str,
        cfg_dump: Any,
        st: StepState,
    ) -> tuple[dict[str, str], dict[str, Any]]:
        ws = self.store.new_workspace(f"step-{step.name}")
        ctx = StepContext(
            self.store,
            self.state.user,
            self.state.run_id,
            self.wf.name,
            step.name,
            key,
            emit=self.emit,
            outputs=dict(step.output_atom_types),
        )
        try:
            if inspect.iscoroutinefunction(step.fn):
                token = set_current(ctx)
                try:
                    result = await step.fn(step_cfg, atoms, ws)
                finally:
                    reset_current(token)
            else:

                def call() -> Any:
                    token = set_current(ctx)
                    try:
                        return step.fn(step_cfg, atoms, ws)
                    finally:
                        reset_current(token)

                result = await asyncio.to_thread(call)
                if inspect.isawaitable(result):
                    result = await result
            outputs = await asyncio.to_thread(
                self._materialize, step, step_cfg, atoms, ws, cfg_dump, result or []
            )
            return outputs, redact(ctx.info)  # info is persisted with the run and cache
        finally:
            await asyncio.to_thread(shutil.rmtree, ws, True)

    def _materialize(
        self,
        step: Step,
        step_cfg: Any,
        atoms: dict[str, Atom],
        ws: Path,
        cfg_dump: Any,
        result: list[AtomConstructor],
    ) -> dict[str, str]:
        if not isinstance(result, list | tuple) or not all(
            isinstance(r, AtomConstructor) for r in result
        ):
            raise StepFailed(step.name, "a step function must return a list of AtomConstructor")
        names = [r.name for r in result]
        missing = set(step.output_atom_types) - set(names)
        extra = set(names) - set(step.output_atom_types)
        if missing or extra:
            raise StepFailed(
                step.name,
                f"outputs {sorted(names)} do not match the declared outputs {sorted(step.output_atom_types)}",
            )
        outputs = {}
        backend = getattr(step_cfg, "backend_name", None)
        identity = redact(_extra_identity(step, step_cfg))  # e.g. the provider endpoint
        for ac in result:
            want = step.output_atom_types[ac.name]
            if ac.type != want:
                raise StepFailed(
                    step.name, f"output {ac.name!r} has type {ac.type!r}, declared {want!r}"
                )
            path = Path(ac.path) if ac.path is not None else None
            if path is not None and not path.is_absolute():
                path = ws / path
            move = path is not None and ws in path.resolve().parents
            prov = {
                "workflow": self.wf.name,
                "run_id": self.state.run_id,
                "step": step.name,
                "step_identity": step.identity,
                "config": cfg_dump,
                "created_by": self.state.user,
                "output_name": ac.name,
            }
            if backend:
                prov["backend"] = backend
            if identity:
                prov["backend_identity"] = identity
            atom = self.store.create_atom(
                ac.type,
                self.state.user,
                path,
                redact(ac.metadata),
                prov,
                parents={n: a.id for n, a in atoms.items()},
                move=move,
            )
            outputs[ac.name] = atom.id
        return outputs


async def arun_workflow(
    workflow: Workflow,
    input_atoms: dict[str, str] | None = None,
    config: Any = None,
    user: str | None = None,
    *,
    store: ContentStore | str | Path | None = None,
    max_parallel: int = 4,
    no_cache: bool = False,
    refresh: list[str] | tuple[str, ...] = (),
    run_id: str | None = None,
    on_event: EventFn | None = None,
    raise_on_failure: bool = True,
    config_source: str | None = None,
    overrides: list[str] | None = None,
) -> WorkflowState:
    """Run ``workflow`` and return its :class:`WorkflowState` (async).

    Everything is validated before any step runs.  ``no_cache`` skips cache reads (but
    still writes); ``refresh`` re-runs the named steps and everything downstream.
    Raises :class:`WorkflowFailed` (carrying the state) when a step fails, unless
    ``raise_on_failure`` is false.
    """
    from motools.atoms.ids import validate_user

    st_store = store if isinstance(store, ContentStore) else get_store(store)
    user = validate_user(user or default_user())
    input_atoms = dict(input_atoms or {})
    source = config_source or "<config>"
    cfg = coerce_config(workflow, config, source)
    validate_workflow(workflow, cfg, input_atoms, st_store, source)
    force: set[str] = set()
    for r in refresh:
        workflow.step(r)
        force |= workflow.downstream(r)
    state = WorkflowState(
        run_id=run_id or _new_run_id(),
        workflow_name=workflow.name,
        user=user,
        config=redact(cfg.model_dump(mode="json")),
        status="running",
        step_states=[StepState(name=s.name) for s in workflow.steps],
        input_atoms=input_atoms,
        created_at=utcnow(),
        started_at=utcnow(),
        config_source=config_source,
        overrides=[redact(o) for o in overrides or []],
        pid=os.getpid(),
        host=HOST,
    )
    run = _Run(workflow, cfg, st_store, state, max_parallel, no_cache, force, on_event)
    await asyncio.to_thread(run.persist)
    run.emit(
        {"event": "run_start", "workflow": workflow.name, "steps": [s.name for s in workflow.steps]}
    )
    try:
        await run.execute()
    except (KeyboardInterrupt, asyncio.CancelledError):
        state.status = "interrupted"
        state.error = "interrupted"
        for s in state.step_states:
            if s.status in ("pending", "running"):
                s.status = "skipped" if s.status == "pending" else "failed"
                s.error = s.error or "interrupted"
        state.finished_at = utcnow()
        run.persist()
        raise
    failed = any(s.status == "failed" for s in state.step_states)
    state.status = "failed" if failed else "succeeded"
    state.finished_at = utcnow()
    await asyncio.to_thread(run.persist)
    run.emit({"event": "run_end", "status": state.status})
    if failed and raise_on_failure:
        raise WorkflowFailed(state)
    return state


def run_workflow(
    workflow: Workflow,
    input_atoms: dict[str, str] | None = None,
    config: Any = None,
    user: str | None = None,
    **kwargs: Any,
) -> WorkflowState:
    """Run ``workflow`` synchronously; see :func:`arun_workflow` for the arguments."""
    return run_sync(arun_workflow(workflow, input_atoms, config, user, **kwargs))


def plan_workflow(
    workflow: Workflow,
    input_atoms: dict[str, str] | None = None,
    config: Any = None,
    *,
    store: ContentStore | str | Path | None = None,
    no_cache: bool = False,
    refresh: list[str] | tuple[str, ...] = (),
    config_source: str | None = None,
    validate: bool = True,
    user: str | None = None,
) -> list[dict[str, Any]]:
    """What a run would do, without executing: per step ``cached`` / ``will run`` and why."""
    st_store = store if isinstance(store, ContentStore) else get_store(store)
    input_atoms = dict(input_atoms or {})
    source = config_source or "<config>"
    cfg = coerce_config(workflow, config, source)
    if user is not None:
        from motools.atoms.ids import validate_user

        validate_user(user)
    if validate:
        validate_workflow(workflow, cfg, input_atoms, st_store, source)
    cache = StepCache(st_store)
    force: set[str] = set()
    for r in refresh:
        workflow.step(r)  # a misspelt --refresh is an error, not a silent no-op
        force |= workflow.downstream(r)
    deps = workflow.dependencies()
    known: dict[str, dict[str, str] | None] = {}
    disabled: set[str] = set()
    plan = []
    for step in workflow.steps:
        ids: dict[str, str] = {}
        unknown = []
        for name in step.input_atom_types:
            producer = deps[step.name].get(name)
            if producer is None:
                ids[name] = input_atoms[name]
            elif known.get(producer) is None:
                unknown.append(producer)
            else:
                ids[name] = known[producer][name]  # type: ignore[index]
        entry: dict[str, Any] = {"step": step.name}
        if step.optional and getattr(cfg, step.name, None) is None:
            entry.update(status="skipped", reason="optional step not configured")
            known[step.name] = None
            disabled.add(step.name)
            plan.append(entry)
            continue
        if any(deps[step.name].get(n) in disabled for n in step.input_atom_types):
            entry.update(status="skipped", reason="upstream optional step not configured")
            known[step.name] = None
            disabled.add(step.name)
            plan.append(entry)
            continue
        if unknown:
            entry.update(
                status="will run", reason=f"upstream step(s) {sorted(set(unknown))} will run"
            )
            known[step.name] = None
            plan.append(entry)
            continue
        hashes = {n: st_store.get_atom(a).hash for n, a in ids.items()}
        step_cfg = getattr(cfg, step.name, None)
        key_cfg, key_extra = step_key_material(cfg, step)
        key, parts = compute_key(
            step.identity,
            key_cfg,
            hashes,
            key_extra,
            step.output_atom_types,
        )
        entry["cache_key"] = key
        hit = None if (no_cache or step.name in force) else cache.lookup(key)
        if hit is not None:
            entry.update(status="cached", outputs=hit.outputs, info=hit.extra)
            known[step.name] = hit.outputs
        else:
            if no_cache:
                reason = "--no-cache"
            elif step.name in force:
                reason = "--refresh"
            else:
                reason = explain_miss(parts, cache.closest(step.name))
            entry.update(status="will run", reason=reason)
            estimate = getattr(step_cfg, "estimate", None)
            if callable(estimate):
                try:
                    entry["estimate"] = estimate({n: st_store.get_atom(a) for n, a in ids.items()})
                except UserError:
                    raise
                except Exception as e:  # an estimate is advisory
                    entry["estimate_error"] = str(e)
            known[step.name] = None
        plan.append(entry)
    return plan


def run_cheap_steps(
    workflow: Workflow,
    input_atoms: dict[str, str] | None,
    config: Any,
    *,
    store: ContentStore | str | Path | None = None,
    user: str | None = None,
) -> list[str]:
    """Run (or find cached) the ``cheap`` steps that need no other step's output.

    Planners call this to price later steps (a training estimate needs the prepared
    dataset); the results land in the step cache exactly as a real run would leave them,
    so the run that follows reuses them.  Returns the names of the steps that executed.
    """
    from pydantic import create_model

    from motools.workflow.config import WorkflowConfig

    st_store = store if isinstance(store, ContentStore) else get_store(store)
    cfg = coerce_config(workflow, config)
    inputs = dict(input_atoms or {})
    deps = workflow.dependencies()
    executed = []
    for step in workflow.steps:
        step_cfg = getattr(cfg, step.name, None)
        if not step.cheap or step_cfg is None or any(deps[step.name].values()):
            continue
        fields: dict[str, Any] = {step.name: (type(step_cfg), ...)}
        make: Any = create_model  # its overloads cannot type a dynamic field mapping
        sub_cfg: Any = make(f"{step.name}_plan_config", __base__=WorkflowConfig, **fields)
        sub = Workflow(
            f"{workflow.name}:{step.name}",
            {n: workflow.input_atom_types[n] for n in step.input_atom_types},
            [step],
            sub_cfg,
            description=f"{step.name} of {workflow.name}, run ahead by a planner",
        )
        sub_inputs = {n: inputs[n] for n in step.input_atom_types if n in inputs}
        sub_config = sub_cfg(**{step.name: step_cfg})
        # Already cached (the usual case across a sweep's points): no run, no run record.
        if plan_workflow(sub, sub_inputs, sub_config, store=st_store)[0]["status"] == "cached":
            continue
        run_workflow(sub, sub_inputs, sub_config, user, store=st_store)
        executed.append(step.name)
    return executed
