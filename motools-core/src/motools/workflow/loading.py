"""Finding workflows by name and loading their configs from YAML files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from motools.errors import ConfigError, UnknownNameError
from motools.workflow.config import apply_overrides, load_yaml_config
from motools.workflow.core import Workflow


def resolve_workflow(name: str) -> Workflow:
    """The workflow registered as ``name`` (or a ``module:attr`` reference)."""
    from motools import plugins
    from motools.specs import load_object

    if ":" in name:
        try:
            wf = load_object(name)
        except (ImportError, AttributeError) as e:
            raise UnknownNameError(f"cannot import workflow {name!r}: {e}") from None
    else:
        registry = plugins.workflows()
        item = registry.get(name)
        if item is None:
            import difflib

            close = difflib.get_close_matches(name, list(registry), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise UnknownNameError(
                f"unknown workflow {name!r}{hint}; available: {sorted(registry) or 'none'} "
                "(see 'motools workflow list'; workflows come from installed plugins such as mozoo)"
            )
        wf = item.load() if hasattr(item, "load") else item
    if not isinstance(wf, Workflow):
        raise UnknownNameError(f"{name!r} is not a Workflow (got {type(wf).__name__})")
    return wf


def load_workflow_config(
    workflow: Workflow,
    path: str | Path | None,
    overrides: list[str] | None = None,
    data: dict[str, Any] | None = None,
) -> Any:
    """Validated config for ``workflow`` from a YAML file (or ``data``) plus ``--set`` overrides."""
    source = str(path) if path else "<config>"
    if path is not None:
        data, _ = load_yaml_config(path, schema=workflow.config_class)
    data = dict(data or {})
    if overrides:
        data = apply_overrides(data, overrides, workflow.config_class, source)
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: expected a mapping")
    cls: Any = workflow.config_class
    return cls.from_dict(data, source=source)
