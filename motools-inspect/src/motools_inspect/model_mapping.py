"""Map a motools ``model`` atom to an Inspect model string (never forcing one provider on another).

First match wins:

1. ``metadata["inspect_model"]``: used as is (``{weights_dir}`` replaced by the atom's
   weights directory), with ``metadata["inspect_model_args"]`` as model args and
   ``metadata["inspect_model_base_url"]`` as base URL when present.
2. provider ``inspect``: ``model_id`` is already an Inspect model string
   (``mockllm/model``, ``anthropic/claude-...``, ``together/x``) and passes through.
3. provider ``openai``: ``openai/<model_id>``, with the endpoint (metadata ``endpoint``
   or ``base_url``) as ``model_base_url`` unless it is OpenAI's default.
4. provider ``hf``: Inspect's ``hf/`` provider on the atom's local weights directory
   (``hf/<model_id>`` when the atom stores no weights).

Anything else is a :class:`UserError` that says how to make the model evaluable.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from motools.errors import UserError

OPENAI_DEFAULT_BASE_URL = "https://api.openai.com/v1"


@dataclass(frozen=True)
class InspectModel:
    """What ``inspect_ai.eval`` needs to reach a model: name, base URL, model args."""

    model: str
    base_url: str | None = None
    model_args: dict[str, Any] = field(default_factory=dict)


def inspect_model_for(atom: Any) -> InspectModel:
    """The :class:`InspectModel` of a model atom (rules in the module docstring)."""
    meta = atom.metadata
    provider = str(meta.get("provider", ""))
    model_id = str(meta.get("model_id", ""))
    if meta.get("inspect_model"):
        name = str(meta["inspect_model"])
        if "{weights_dir}" in name:
            wd = atom.weights_dir
            if wd is None:
                raise UserError(
                    f"model {atom.id}: inspect_model {name!r} needs {{weights_dir}} but the atom has no weights"
                )
            name = name.replace("{weights_dir}", str(wd))
        args = meta.get("inspect_model_args") or {}
        if not isinstance(args, dict):
            raise UserError(f"model {atom.id}: metadata inspect_model_args must be a mapping")
        return InspectModel(name, meta.get("inspect_model_base_url") or None, dict(args))
    if provider == "inspect":
        if "/" not in model_id:
            raise UserError(
                f"model {atom.id}: provider 'inspect' needs an Inspect model string like 'anthropic/claude-3-5-haiku', got {model_id!r}"
            )
        return InspectModel(model_id)
    if provider == "openai":
        endpoint = meta.get("endpoint") or meta.get("base_url")
        base_url = None
        if endpoint and str(endpoint).rstrip("/") != OPENAI_DEFAULT_BASE_URL:
            base_url = str(endpoint)
        return InspectModel(f"openai/{model_id}", base_url)
    if provider == "hf":
        wd = atom.weights_dir
        return InspectModel(f"hf/{wd}" if wd is not None else f"hf/{model_id}")
    raise UserError(
        f"model {atom.id}: the inspect backend cannot evaluate provider {provider!r} models; "
        "the producing backend should set metadata 'inspect_model' (an Inspect model string), "
        "or use provider 'openai', 'hf' or 'inspect'"
    )
