"""Keep ``motools --help`` fast.

typer renders rich help through ``typer.rich_utils``, which imports ``rich.markdown``
(markdown-it) and ``rich.traceback`` (pygments) at module level: about 0.2 s of a 0.3 s
start-up budget, although motools uses neither for help (markup mode "rich", and
tracebacks only with ``--debug``).  We import ``typer.rich_utils`` with stand-ins for
those two names that load the real class on first instantiation, then remove the
stand-ins from ``sys.modules`` so every other import gets the real modules.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import Any


def _deferred_class(modname: str, name: str) -> type:
    class Deferred:
        def __new__(cls, *args: Any, **kwargs: Any) -> Any:
            return getattr(importlib.import_module(modname), name)(*args, **kwargs)

    Deferred.__name__ = Deferred.__qualname__ = name
    return Deferred


def preload_rich_help() -> None:
    """Import ``typer.rich_utils`` without its unused heavy dependencies."""
    if "typer.rich_utils" in sys.modules:
        return
    stubs = {"rich.markdown": "Markdown", "rich.traceback": "Traceback"}
    installed = []
    for modname, cls_name in stubs.items():
        if modname in sys.modules:
            continue
        stub = types.ModuleType(modname)
        setattr(stub, cls_name, _deferred_class(modname, cls_name))
        sys.modules[modname] = stub
        installed.append(modname)
    try:
        importlib.import_module("typer.rich_utils")
    finally:
        for modname in installed:
            sys.modules.pop(modname, None)
