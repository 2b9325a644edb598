"""Errors of the Inspect backend."""

from __future__ import annotations

from motools.errors import MotoolsError


class EvalFailed(MotoolsError):
    """An Inspect evaluation ended without success; carries Inspect's message and the log path.

    ``log_path`` is a copy of the errored ``.eval`` log kept under the store (the step's
    workspace is deleted when a step fails), so ``inspect view`` / ``inspect log dump``
    can open it.
    """

    def __init__(self, message: str, *, log_path: str | None = None):
        super().__init__(message if not log_path else f"{message}\n  log: {log_path}")
        self.message = message
        self.log_path = log_path
