"""Run state: :class:`WorkflowState` and :class:`StepState`, persisted in the store."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from typing import Any

STEP_STATUSES = ("pending", "running", "cached", "succeeded", "failed", "skipped")
RUN_STATUSES = ("pending", "running", "succeeded", "failed", "interrupted")


@dataclass
class StepState:
    """One step of a run: status, atoms in and out, timing, error."""

    name: str
    status: str = "pending"
    input_atoms: dict[str, str] = field(default_factory=dict)
    output_atoms: dict[str, str] = field(default_factory=dict)
    started_at: str | None = None
    finished_at: str | None = None
    duration: float | None = None
    cached: bool = False
    error: str | None = None
    cache_key: str | None = None
    info: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class WorkflowState:
    """A workflow run: id, workflow, user, (redacted) config, status, steps in declared order."""

    run_id: str
    workflow_name: str
    user: str
    config: dict[str, Any]
    status: str = "pending"
    step_states: list[StepState] = field(default_factory=list)
    input_atoms: dict[str, str] = field(default_factory=dict)
    created_at: str | None = None
    started_at: str | None = None
    finished_at: str | None = None
    error: str | None = None
    config_source: str | None = None
    overrides: list[str] = field(default_factory=list)
    pid: int | None = None
    host: str | None = None

    def step(self, name: str) -> StepState:
        """The state of the step called ``name``."""
        for s in self.step_states:
            if s.name == name:
                return s
        raise KeyError(name)

    @property
    def outputs(self) -> dict[str, str]:
        """Every output atom by name, later steps shadowing earlier ones."""
        out: dict[str, str] = {}
        for s in self.step_states:
            out.update(s.output_atoms)
        return out

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        return d

    def header_json(self) -> str:
        """JSON of everything but the step states (persisted as separate rows)."""
        d = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "step_states"}
        return json.dumps(d, default=str)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> WorkflowState:
        d = dict(d)
        steps = [StepState(**s) for s in d.pop("step_states", [])]
        return cls(**d, step_states=steps)
