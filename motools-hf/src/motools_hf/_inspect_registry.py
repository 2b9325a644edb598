"""Inspect entry point (``[project.entry-points.inspect_ai]``): registers the ``hflocal`` model API.

Inspect imports this module whenever it loads extensions, so it must stay cheap: the
provider class (and torch) is imported only when an ``hflocal/...`` model is created.
"""

from __future__ import annotations

from typing import Any

from inspect_ai.model import modelapi


@modelapi(name="hflocal")
def hflocal() -> Any:
    """Local Hugging Face models for motools: ``hflocal/<directory or built-in name>``."""
    from motools_hf.inspect_provider import LocalHFModelAPI

    return LocalHFModelAPI
