"""motools plugin entry module: registers only; the work lives in lazily imported modules.

Importing this module must stay cheap: no ``inspect_ai`` import here or in what it imports.
"""

from __future__ import annotations

from typing import Any

from motools.hookspecs import hookimpl
from motools.specs import EvalBackendSpec


@hookimpl
def register_eval_backends(register: Any) -> None:
    register(
        EvalBackendSpec(
            name="inspect",
            impl="motools_inspect.backend:InspectBackend",
            description="Inspect AI evaluations (any Inspect task: module:function, registry name or task file)",
        )
    )
