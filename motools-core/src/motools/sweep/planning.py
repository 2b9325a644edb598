"""Before anything runs: validate every point, find shared work, plan what will run.

Every point's config is validated (schema, backends, hyperparameters, inputs) before
any point starts, so a bad point 37 fails the plan, not the run after 36 trainings.

Each step of each point gets a *structural key*: the hash of the step's identity, its
config and the structural keys of the steps feeding it (or the hashes of workflow
input atoms).  Two points with the same structural key for a step will compute the
same cache key at run time, so the sweep runs that step once and schedules the other
points after it (they then hit the cache) instead of starting them in parallel.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from motools.errors import ConfigError, MotoolsError
from motools.store import canonical_json
from motools.sweep.definition import SweepDefinition, SweepPoint, expand_points

if TYPE_CHECKING:
    from motools.store import ContentStore
    from motools.workflow.core import Workflow


@dataclass
class PreparedSweep:
    """A validated sweep: workflow, points, their config objects and structural keys."""

    definition: SweepDefinition
    workflow: Workflow
    points: list[SweepPoint]
    configs: list[Any]
    step_keys: list[dict[str, str | None]]
    param_names: dict[str, str]


def _describe(point: SweepPoint, names: dict[str, str]) -> str:
    return f"point {point.index} ({point.label(names)})"


def prepare_sweep(defn: SweepDefinition, store: ContentStore) -> PreparedSweep:
    """Expand and validate every point; raise one :class:`ConfigError` listing the bad ones."""
    from motools.workflow.validation import coerce_config, validate_workflow

    workflow = defn.resolve_workflow()
    points = expand_points(defn, workflow)
    names = defn.param_names()
    configs: list[Any] = []
    problems: dict[str, list[SweepPoint]] = {}
    for p in points:
        try:
            cfg = coerce_config(workflow, p.config, defn.source)
            validate_workflow(workflow, cfg, p.input_atoms, store, defn.source)
        except MotoolsError as e:
            problems.setdefault(str(e), []).append(p)
            configs.append(None)
            continue
        configs.append(cfg)
    if problems:
        lines = []
        for msg, bad in problems.items():
            where = _describe(bad[0], names)
            if len(bad) == len(points) and len(points) > 1:
                where = f"every point (e.g. {where})"
            elif len(bad) > 1:
                more = ", ".join(str(b.index) for b in bad[1:8]) + (" ..." if len(bad) > 8 else "")
                where += f" and points {more}"
            lines.append(f"{where}:\n    " + msg.replace("\n", "\n    "))
        raise ConfigError(
            f"{defn.source}: sweep of workflow {workflow.name!r}: {sum(len(b) for b in problems.values())} of "
            f"{len(points)} point(s) are invalid; nothing was run:\n  " + "\n  ".join(lines)
        )
    deps = workflow.dependencies()
    hashes: dict[str, str] = {}
    keys = [
        _structural_keys(workflow, cfg, p.input_atoms, store, deps, hashes)
        for p, cfg in zip(points, configs, strict=True)
    ]
    return PreparedSweep(defn, workflow, points, configs, keys, names)


def _structural_keys(
    workflow: Workflow,
    cfg: Any,
    input_atoms: dict[str, str],
    store: ContentStore,
    deps: dict[str, dict[str, str | None]],
    atom_hashes: dict[str, str],
) -> dict[str, str | None]:
    from motools.workflow.config import redact
    from motools.workflow.engine import step_key_material

    keys: dict[str, str | None] = {}
    for step in workflow.steps:
        step_cfg: Any = getattr(cfg, step.name, None)
        if step.optional and step_cfg is None:
            keys[step.name] = None
            continue
        inputs: dict[str, str] = {}
        for name in step.input_atom_types:
            producer = deps[step.name].get(name)
            if producer is None:
                aid = input_atoms[name]
                if aid not in atom_hashes:
                    atom_hashes[aid] = store.get_atom(aid).hash
                inputs[name] = "atom:" + atom_hashes[aid]
            else:
                inputs[name] = f"{producer}/{name}/{keys.get(producer)}"
        try:
            dump, extra = step_key_material(cfg, step)
        except Exception:  # advisory here; the engine computes the real key
            dump, extra = redact(getattr(step_cfg, "__dict__", step_cfg)), {}
        parts = {"step": step.identity, "config": dump, "inputs": inputs, "extra": extra}
        keys[step.name] = hashlib.sha256(canonical_json(parts).encode()).hexdigest()
    return keys


def active_leases(store: ContentStore) -> set[str]:
    """Cache keys some process is computing right now (unexpired leases)."""
    return {
        r[0]
        for r in store.index.query("SELECT key FROM leases WHERE expires_at > ?", (time.time(),))
    }


def plan_points(prep: PreparedSweep, store: ContentStore) -> list[dict[str, Any]]:
    """Per point: ``cached`` / ``in flight`` / ``will run``, its steps, shared work, estimated cost.

    A step that an earlier point of the sweep will also run is marked ``shared_with``
    that point and counted once; ``estimated_cost_usd`` sums the estimates of the steps
    a point adds (an estimate needs the step's inputs, so it is missing while the
    dataset is still to be prepared).
    """
    from motools.workflow.engine import plan_workflow

    leases = active_leases(store)
    first_runner: dict[str, int] = {}
    out = []
    for p, cfg, skeys in zip(prep.points, prep.configs, prep.step_keys, strict=True):
        steps = plan_workflow(prep.workflow, p.input_atoms, cfg, store=store, validate=False)
        cost = 0.0
        unknown_cost = False
        new_steps = 0
        for entry in steps:
            entry.pop("info", None)
            entry.pop("outputs", None)
            if entry["status"] != "will run":
                continue
            if entry.get("cache_key") in leases:
                entry["status"] = "in flight"
            skey = skeys.get(entry["step"])
            if skey is not None and skey in first_runner:
                entry["shared_with"] = first_runner[skey]
                continue
            if skey is not None:
                first_runner[skey] = p.index
            if entry["status"] == "in flight":
                continue
            new_steps += 1
            est = entry.get("estimate")
            if isinstance(est, dict) and isinstance(est.get("estimated_cost_usd"), int | float):
                cost += float(est["estimated_cost_usd"])
            elif _is_training(prep.workflow, entry["step"]):
                unknown_cost = True
        statuses = {e["status"] for e in steps}
        if "in flight" in statuses:
            status = "in flight"
        elif "will run" in statuses:
            status = "will run"
        else:
            status = "cached"
        out.append(
            {
                "index": p.index,
                "params": p.params,
                "replicate": p.replicate,
                "seeds": p.seeds,
                "status": status,
                "new_steps": new_steps,
                "estimated_cost_usd": round(cost, 6),
                "cost_unknown": unknown_cost,
                "steps": steps,
            }
        )
    return out


def _is_training(workflow: Workflow, step_name: str) -> bool:
    cls = workflow.step(step_name).config_class
    return getattr(cls, "backend_registry", None) == "training"


def plan_sweep(
    defn: SweepDefinition,
    *,
    store: ContentStore | None = None,
    user: str | None = None,
    prepare: bool = False,
) -> dict[str, Any]:
    """Validate every point and say what a run would do, without running anything paid.

    With ``prepare`` the workflow's ``cheap`` steps (dataset preparation) are run ahead,
    once per distinct config, so that training costs can be estimated; they are cached
    for the run.  Returns ``{"sweep_id", "workflow", "param_names", "points": [...],
    "totals": {...}}`` where each point is as in :func:`plan_points`.
    """
    from motools.atoms.ids import validate_user
    from motools.settings import default_user
    from motools.store import get_store

    st = store or get_store()
    user = validate_user(user or default_user())
    prep = prepare_sweep(defn, st)
    prepared = 0
    if prepare:
        from motools.workflow.engine import run_cheap_steps

        for p, cfg in zip(prep.points, prep.configs, strict=True):
            prepared += len(run_cheap_steps(prep.workflow, p.input_atoms, cfg, store=st, user=user))
    points = plan_points(prep, st)
    totals = {
        "points": len(points),
        "cached": sum(p["status"] == "cached" for p in points),
        "in_flight": sum(p["status"] == "in flight" for p in points),
        "will_run": sum(p["status"] == "will run" for p in points),
        "steps_to_run": sum(p["new_steps"] for p in points),
        "estimated_cost_usd": round(sum(p["estimated_cost_usd"] for p in points), 6),
        "cost_unknown": any(p["cost_unknown"] for p in points),
        "steps_prepared": prepared,
    }
    return {
        "sweep_id": defn.sweep_id(user),
        "workflow": prep.workflow.name,
        "param_names": prep.param_names,
        "points": points,
        "totals": totals,
    }
