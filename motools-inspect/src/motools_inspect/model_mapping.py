"""Map a motools ``model`` atom to an Inspect model string (never forcing one provider on another).

First match wins:

1. ``metadata["inspect_model"]``: used as is (``{weights_dir}`` replaced by the atom's
   weights directory), with ``metadata["inspect_model_args"]`` as model args and
   ``metadata["inspect_model_base_url"]`` as base URL when present.
2. provider ``inspect``: ``model_id`` is already an Inspect model string
   (``mockllm/model``, ``anthropic/claude-...``, ``together/x``) and passes through.
3. provider ``openai``: ``openai/<model_id>``, with the endpoint (metadata ``endpoint``
   or ``base_url``) as ``model_base_url`` unless it is OpenAI's default (which is then
   only passed when ``OPENAI_BASE_URL`` would otherwise send the requests elsewhere).
   ``organization`` / ``project`` become model args; a key kept in another variable
   (metadata ``api_key_env``) is handed to Inspect as ``OPENAI_API_KEY``.
4. provider ``hf``: Inspect's ``hf/`` provider on the atom's local weights directory
   (``hf/<model_id>`` when the atom stores no weights).

Anything else is a :class:`UserError` that says how to make the model evaluable.
"""

from __future__ import annotations

import os
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
    env_from: dict[str, str] = field(default_factory=dict)
    """Environment variables to set for Inspect, by the *name* of the variable to copy."""


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
        return _openai_model(meta, model_id)
    if provider == "hf":
        wd = atom.weights_dir
        return InspectModel(f"hf/{wd}" if wd is not None else f"hf/{model_id}")
    raise UserError(
        f"model {atom.id}: the inspect backend cannot evaluate provider {provider!r} models; "
        "the producing backend should set metadata 'inspect_model' (an Inspect model string), "
        "or use provider 'openai', 'hf' or 'inspect'"
    )


def _openai_model(meta: dict[str, Any], model_id: str) -> InspectModel:
    endpoint = str(meta.get("endpoint") or meta.get("base_url") or "").rstrip("/")
    base_url = None
    if endpoint and endpoint != OPENAI_DEFAULT_BASE_URL:
        base_url = endpoint
    elif endpoint and os.environ.get("OPENAI_BASE_URL", "").rstrip("/") not in ("", endpoint):
        base_url = endpoint  # the model lives at OpenAI: do not follow $OPENAI_BASE_URL elsewhere
    args = {k: meta[k] for k in ("organization", "project") if meta.get(k)}
    key_env = meta.get("api_key_env")
    env_from = {"OPENAI_API_KEY": str(key_env)} if key_env and key_env != "OPENAI_API_KEY" else {}
    return InspectModel(f"openai/{model_id}", base_url, args, env_from)
