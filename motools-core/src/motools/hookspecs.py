"""The whole extension surface of motools, in one file.

Every hook is a *register callback*: the host passes a ``register`` function and a
plugin calls it once per thing it provides.  New keyword arguments can be added to
``register`` later without breaking existing plugins.
"""

from __future__ import annotations

from typing import Any

import pluggy

hookspec = pluggy.HookspecMarker("motools")
hookimpl = pluggy.HookimplMarker("motools")


@hookspec
def register_atom_types(register: Any) -> None:
    """Register atom classes: ``register(AtomSubclass)`` (the class's ``type`` names it)."""


@hookspec
def register_training_backends(register: Any) -> None:
    """Register training backends: ``register(TrainingBackendSpec(name=..., impl="mod:Class"))``."""


@hookspec
def register_eval_backends(register: Any) -> None:
    """Register evaluation backends: ``register(EvalBackendSpec(name=..., impl="mod:Class"))``."""


@hookspec
def register_workflows(register: Any) -> None:
    """Register workflows: ``register(WorkflowSpec(name=..., impl="mod:attr", ...))``."""


@hookspec
def register_datasets(register: Any) -> None:
    """Register curated datasets: ``register(DatasetSpec(name=..., loader="mod:function"))``."""


@hookspec
def register_commands(app: Any) -> None:
    """Add CLI commands or sub-apps to the root typer ``app``."""
