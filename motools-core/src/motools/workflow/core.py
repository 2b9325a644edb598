"""Workflow building blocks: :class:`Step`, :class:`Workflow`, :class:`AtomConstructor`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from motools.errors import ConfigError


@dataclass
class AtomConstructor:
    """What a step returns for each output: the engine stores it as an atom.

    ``path`` is a file or directory in the step's temp workspace (or ``None`` for a
    metadata-only atom such as a hosted model); ``name`` is the output name that
    downstream steps ask for; provenance is filled in by the engine.
    """

    name: str
    path: Path | str | None
    type: str
    metadata: dict[str, Any] = field(default_factory=dict)


StepFn = Callable[..., Any]


@dataclass
class Step:
    """One step: ``fn(config, input_atoms, temp_workspace) -> list[AtomConstructor]``.

    ``input_atom_types`` / ``output_atom_types`` map argument names to atom types;
    inputs are resolved by name.  Bump ``version`` when the function's behaviour changes
    so cached results are not reused.  ``cache_identity`` may add to the cache key
    (e.g. a backend's endpoint); ``cache_config`` chooses which part of the step's config
    counts for the cache key (default: all of it; ``submit_training`` leaves out options
    that do not change what is trained, such as thread counts or a price override, so
    that changing them never pays for a job twice).  A ``cheap`` step (deterministic,
    free, quick: dataset preparation) may be run ahead by a planner so that the cost of
    later steps can be estimated.  An ``optional`` step is skipped when its config field
    is ``None`` (e.g. a baseline evaluation that is off by default); steps that need its
    outputs are skipped too.
    """

    name: str
    fn: StepFn
    input_atom_types: dict[str, str] = field(default_factory=dict)
    output_atom_types: dict[str, str] = field(default_factory=dict)
    config_class: type | None = None
    version: str = "1"
    description: str = ""
    cache_identity: Callable[[Any], dict[str, Any]] | None = None
    optional: bool = False
    cache_config: Callable[[Any], Any] | None = None
    cheap: bool = False

    @property
    def identity(self) -> str:
        """Qualified name of the function plus version: part of the cache key."""
        fn = self.fn
        return f"{getattr(fn, '__module__', '?')}:{getattr(fn, '__qualname__', repr(fn))}@{self.version}"


@dataclass
class Workflow:
    """A DAG of steps connected by atom names, with a typed config class.

    ``config_class`` is a :class:`motools.workflow.config.WorkflowConfig` subclass with
    one field per step (named as the step) holding that step's config.
    """

    name: str
    input_atom_types: dict[str, str]
    steps: list[Step]
    config_class: type
    description: str = ""

    def __post_init__(self) -> None:
        names = [s.name for s in self.steps]
        dupes = {n for n in names if names.count(n) > 1}
        if dupes:
            raise ConfigError(f"workflow {self.name!r}: duplicate step names {sorted(dupes)}")
        fields = getattr(self.config_class, "model_fields", {})
        missing = [n for n in names if n not in fields]
        if missing:
            raise ConfigError(
                f"workflow {self.name!r}: config class {self.config_class.__name__} has no field "
                f"for step(s) {missing}"
            )

    def step(self, name: str) -> Step:
        for s in self.steps:
            if s.name == name:
                return s
        raise ConfigError(
            f"workflow {self.name!r} has no step {name!r}; steps: {[s.name for s in self.steps]}"
        )

    def dependencies(self) -> dict[str, dict[str, str | None]]:
        """For each step, input name -> producing step name (``None``: a workflow input).

        Resolution is by argument name in declared order: workflow inputs first, then
        outputs of earlier steps, later steps shadowing earlier ones.
        """
        producers: dict[str, str | None] = dict.fromkeys(self.input_atom_types)
        deps: dict[str, dict[str, str | None]] = {}
        for s in self.steps:
            d = {}
            for inp in s.input_atom_types:
                if inp in producers:
                    d[inp] = producers[inp]
            deps[s.name] = d
            for out in s.output_atom_types:
                producers[out] = s.name
        return deps

    def downstream(self, step_name: str) -> set[str]:
        """The step and every step that depends on it, transitively."""
        deps = self.dependencies()
        out = {step_name}
        for s in self.steps:
            if any(p in out for p in deps[s.name].values() if p):
                out.add(s.name)
        return out
