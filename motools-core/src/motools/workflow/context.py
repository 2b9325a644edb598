"""What a running step can learn about its run: store, user, cache key, progress.

Step functions keep the plain ``fn(config, input_atoms, temp_workspace)`` signature;
steps that need more (training steps need the cache key as idempotency key) call
:func:`current_step`.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from motools.store import ContentStore


@dataclass
class StepContext:
    """Information about the step being executed."""

    store: ContentStore
    user: str
    run_id: str
    workflow: str
    step: str
    cache_key: str
    emit: Callable[[dict[str, Any]], None] = field(default=lambda e: None)
    info: dict[str, Any] = field(default_factory=dict)
    outputs: dict[str, str] = field(default_factory=dict)
    """The step's declared outputs (name -> atom type), so reusable step functions can
    name their outputs as the workflow declared them."""

    def output_name(self, atom_type: str, default: str) -> str:
        """The declared output name of ``atom_type`` (``default`` when none or several)."""
        names = [n for n, t in self.outputs.items() if t == atom_type]
        return names[0] if len(names) == 1 else default

    def progress(self, message: str, **data: Any) -> None:
        """Report live progress (shown on stderr by the CLI; secret values redacted)."""
        from motools.workflow.config import redact

        self.emit({"event": "progress", "step": self.step, "message": redact(message), **data})

    def record(self, **info: Any) -> None:
        """Attach facts (e.g. cost estimates) to this step's state."""
        self.info.update(info)


_current: contextvars.ContextVar[StepContext | None] = contextvars.ContextVar(
    "motools_step", default=None
)


def current_step() -> StepContext | None:
    """The context of the step running in this task/thread, or ``None`` outside a run."""
    return _current.get()


def set_current(ctx: StepContext | None) -> contextvars.Token[StepContext | None]:
    return _current.set(ctx)


def reset_current(token: contextvars.Token[StepContext | None]) -> None:
    _current.reset(token)
