"""Checks made before any step runs: config, inputs, wiring, types and backends."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from motools.atoms.ids import atom_type_of, parse_atom_id
from motools.errors import ConfigError, MotoolsError
from motools.workflow.core import Workflow

if TYPE_CHECKING:
    from motools.store import ContentStore


def coerce_config(workflow: Workflow, config: Any, source: str = "<config>") -> Any:
    """Return a validated instance of the workflow's config class."""
    cls: Any = workflow.config_class
    if isinstance(config, cls):
        return config
    if isinstance(config, dict):
        return cls.from_dict(config, source=source)
    raise ConfigError(
        f"workflow {workflow.name!r} expects a {cls.__name__} (or a dict), got {type(config).__name__}"
    )


def validate_workflow(
    workflow: Workflow,
    config: Any,
    input_atoms: dict[str, str],
    store: ContentStore | None,
    source: str = "<config>",
) -> None:
    """Raise :class:`ConfigError` listing every problem found; nothing runs before this."""
    from motools import plugins

    problems: list[str] = []
    types = plugins.atom_types()
    for where, mapping in [("workflow inputs", workflow.input_atom_types)] + [
        (f"step {s.name!r}", {**s.input_atom_types, **s.output_atom_types}) for s in workflow.steps
    ]:
        for name, t in mapping.items():
            if t not in types:
                problems.append(
                    f"{where}: atom {name!r} has unknown type {t!r} (registered: {sorted(types)}; "
                    f"plugins: {plugins.plugin_names()})"
                )
    # workflow inputs
    for name in workflow.input_atom_types:
        if name not in input_atoms:
            problems.append(
                f"input_atoms: missing workflow input {name!r} ({workflow.input_atom_types[name]})"
            )
    for name, aid in input_atoms.items():
        if name not in workflow.input_atom_types:
            problems.append(
                f"input_atoms: {name!r} is not an input of workflow {workflow.name!r} "
                f"(inputs: {sorted(workflow.input_atom_types) or 'none'})"
            )
            continue
        try:
            parse_atom_id(aid)
        except MotoolsError as e:
            problems.append(f"input_atoms.{name}: {e}")
            continue
        want = workflow.input_atom_types[name]
        if atom_type_of(aid) != want:
            problems.append(
                f"input_atoms.{name}: {aid} is a {atom_type_of(aid)!r} atom, expected {want!r}"
            )
        elif store is not None and not store.has_atom(aid):
            problems.append(f"input_atoms.{name}: atom {aid} is not in the store at {store.root}")
    # wiring: every input provided by a workflow input or an earlier step, types agree
    available: dict[str, tuple[str, str]] = {
        n: (t, "workflow input") for n, t in workflow.input_atom_types.items()
    }
    later_outputs: dict[str, str] = {}
    for s in workflow.steps:
        for out in s.output_atom_types:
            later_outputs.setdefault(out, s.name)
    for s in workflow.steps:
        for inp, want in s.input_atom_types.items():
            if inp not in available:
                hint = ""
                if inp in later_outputs:
                    hint = f" (step {later_outputs[inp]!r} produces it, but runs later: this would be a cycle)"
                problems.append(
                    f"step {s.name!r}: input {inp!r} is provided by no earlier step or workflow input{hint}"
                )
                continue
            have, by = available[inp]
            if have != want:
                problems.append(
                    f"step {s.name!r}: input {inp!r} must be {want!r}, but {by} provides {have!r}"
                )
        for out, t in s.output_atom_types.items():
            available[out] = (t, f"step {s.name!r}")
    # backends named in step configs
    for s in workflow.steps:
        step_cfg = getattr(config, s.name, None)
        if step_cfg is None and not s.optional:
            problems.append(f"{source}: {s.name}: required step config is missing")
        kind = getattr(type(step_cfg), "backend_registry", None)
        backend_name = getattr(step_cfg, "backend_name", None)
        if kind and backend_name:
            registry = (
                plugins.training_backends() if kind == "training" else plugins.eval_backends()
            )
            if backend_name not in registry:
                problems.append(
                    f"{source}: {s.name}.backend_name: unknown {kind} backend {backend_name!r}; installed: "
                    f"{sorted(registry) or 'none'} (install e.g. motools-{backend_name} if it exists)"
                )
        check = getattr(step_cfg, "validate_for_run", None)
        if callable(check):
            try:
                check()
            except MotoolsError as e:
                problems.append(f"{source}: {s.name}: {e}")
    if problems:
        raise ConfigError(f"workflow {workflow.name!r} cannot run:\n  " + "\n  ".join(problems))
