"""Error types with messages a researcher can act on.

``UserError`` subclasses are mistakes in input (config, ids, names): the CLI prints
them without a traceback and exits 2.  ``MotoolsError`` subclasses that are not user
errors are runtime failures (exit 1).
"""

from __future__ import annotations


class MotoolsError(Exception):
    """Base class of every error motools raises on purpose."""

    exit_code = 1


class UserError(MotoolsError):
    """A mistake in the user's input: printed without traceback, exit code 2."""

    exit_code = 2


class ConfigError(UserError):
    """A configuration that does not validate (file, dotted path and expectation named)."""


class PluginError(MotoolsError):
    """A plugin that is broken or registers conflicting names."""


class UnknownNameError(UserError):
    """A backend, workflow, dataset or atom type name that no installed plugin provides."""


class AtomNotFound(UserError):
    """An atom id that is well formed but not in the store."""


class InvalidAtomId(UserError):
    """An atom id that does not follow ``{type}-{user}-{hash}``."""


class StepFailed(MotoolsError):
    """A workflow step raised; carries the step name."""

    def __init__(self, step: str, message: str):
        super().__init__(f"step '{step}' failed: {message}")
        self.step = step
        self.message = message


class TrainingFailed(MotoolsError):
    """A provider training job failed or was cancelled (provider code and message kept)."""

    def __init__(self, message: str, *, code: str | None = None, job_atom_id: str | None = None):
        super().__init__(message if code is None else f"[{code}] {message}")
        self.code = code
        self.job_atom_id = job_atom_id


class BackendUnavailable(UserError):
    """A backend whose dependencies or credentials are missing."""
