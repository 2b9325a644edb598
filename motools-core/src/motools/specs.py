"""Lightweight registration records that plugins hand to ``register`` callbacks.

A spec names an implementation by import path (``"package.module:attr"``) so that
discovering plugins never imports heavy libraries: the implementation is imported on
first use through :meth:`ImportRef.load`.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any

from motools.errors import PluginError


def load_object(ref: str) -> Any:
    """Import ``"module:attr"`` (``attr`` may be dotted) and return the object."""
    module_name, sep, attr = ref.partition(":")
    if not sep or not module_name or not attr:
        raise PluginError(f"invalid import reference {ref!r}: expected 'module:attribute'")
    module = importlib.import_module(module_name)
    obj: Any = module
    for part in attr.split("."):
        obj = getattr(obj, part)
    return obj


@dataclass(frozen=True)
class _BackendSpec:
    name: str
    impl: str
    description: str = ""
    required_env: tuple[str, ...] = ()
    plugin: str = ""

    def load(self) -> Any:
        """Import and instantiate the backend."""
        return load_object(self.impl)()


@dataclass(frozen=True)
class TrainingBackendSpec(_BackendSpec):
    """A training backend: ``impl`` is ``"module:Class"`` of a :class:`TrainingBackend`."""


@dataclass(frozen=True)
class EvalBackendSpec(_BackendSpec):
    """An evaluation backend: ``impl`` is ``"module:Class"`` of an :class:`EvalBackend`."""


@dataclass(frozen=True)
class WorkflowSpec:
    """A workflow: ``impl`` is ``"module:attr"`` of a :class:`motools.workflow.Workflow`.

    ``steps`` and ``description`` are given here too so that ``motools workflow list``
    does not import the workflow module.
    """

    name: str
    impl: str
    description: str = ""
    steps: tuple[str, ...] = ()
    plugin: str = ""

    def load(self) -> Any:
        """Import and return the workflow object."""
        return load_object(self.impl)


@dataclass(frozen=True)
class DatasetSpec:
    """A curated dataset: ``loader`` is ``"module:function"``."""

    name: str
    loader: str
    description: str = ""
    citation: str = ""
    license: str = ""
    source: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
    plugin: str = ""
