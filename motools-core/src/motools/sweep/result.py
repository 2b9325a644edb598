"""What a sweep produced: :class:`SweepResult` with one :class:`PointResult` per point."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

    from motools.store import ContentStore
    from motools.workflow.state import WorkflowState

POINT_STATUSES = ("pending", "running", "succeeded", "failed", "skipped", "interrupted")


@dataclass
class PointResult:
    """One point: grid values, replicate, (redacted) config, run id, status, error, output atoms.

    ``status`` is ``succeeded`` (``cached`` tells whether every step was a cache hit),
    ``failed``, ``skipped`` (it shares a step that failed in another point of this
    sweep invocation), ``pending``, ``running`` or ``interrupted``.  ``state`` is the
    workflow run's state when the result comes from a run in this process.
    """

    index: int
    params: dict[str, Any]
    replicate: int = 0
    seeds: dict[str, int] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)
    run_id: str | None = None
    status: str = "pending"
    error: str | None = None
    outputs: dict[str, str] = field(default_factory=dict)
    duration: float | None = None
    cached: bool = False
    runs: list[str] = field(default_factory=list)
    state: WorkflowState | None = field(default=None, repr=False, compare=False)

    @property
    def ok(self) -> bool:
        """Whether the point's workflow run succeeded."""
        return self.status == "succeeded"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (without the workflow state)."""
        return {
            "index": self.index,
            "params": self.params,
            "replicate": self.replicate,
            "seeds": self.seeds,
            "run_id": self.run_id,
            "status": self.status,
            "error": self.error,
            "outputs": self.outputs,
            "duration": self.duration,
            "cached": self.cached,
        }


@dataclass
class SweepResult:
    """A sweep: its id, workflow, grid parameter names and every point's result.

    ``param_names`` maps each grid path to its column name in collated tables.
    Load a recorded sweep with :meth:`SweepResult.load`.
    """

    sweep_id: str
    workflow: str
    user: str
    points: list[PointResult]
    param_names: dict[str, str] = field(default_factory=dict)
    status: str = "pending"
    name: str | None = None
    source: str | None = None
    created_at: str | None = None
    updated_at: str | None = None
    definition: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def succeeded(self) -> list[PointResult]:
        """Points whose run succeeded (cache hits included)."""
        return [p for p in self.points if p.status == "succeeded"]

    @property
    def failed(self) -> list[PointResult]:
        """Points that failed, were skipped or interrupted."""
        return [p for p in self.points if p.status in ("failed", "skipped", "interrupted")]

    @property
    def ok(self) -> bool:
        """Whether every point succeeded."""
        return all(p.status == "succeeded" for p in self.points)

    def counts(self) -> dict[str, int]:
        """Number of points per status."""
        out = dict.fromkeys(POINT_STATUSES, 0)
        for p in self.points:
            out[p.status] = out.get(p.status, 0) + 1
        return out

    def __len__(self) -> int:
        return len(self.points)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary: ``{"sweep_id", "status", "points": [...]}``."""
        return {
            "sweep_id": self.sweep_id,
            "name": self.name,
            "workflow": self.workflow,
            "user": self.user,
            "status": self.status,
            "counts": self.counts(),
            "param_names": self.param_names,
            "points": [p.to_dict() for p in self.points],
        }

    def collate(self, store: ContentStore | None = None) -> pd.DataFrame:
        """The evaluation results as a table; see :func:`motools.sweep.collate`."""
        from motools.sweep.analysis import collate

        return collate(self, store=store)

    @classmethod
    def load(cls, sweep_id: str, store: ContentStore | None = None) -> SweepResult:
        """A recorded sweep by id (or unique id prefix) from the store."""
        from motools.store import get_store
        from motools.sweep.records import load_sweep

        return load_sweep(store or get_store(), sweep_id)


def sweep_status(points: list[PointResult]) -> str:
    """Overall status: running while any point is, else failed if any did not succeed."""
    statuses = {p.status for p in points}
    if "running" in statuses:
        return "running"
    if "interrupted" in statuses:
        return "interrupted"
    if statuses & {"failed", "skipped"}:
        return "failed"
    if "pending" in statuses:
        return "pending"
    return "succeeded"
