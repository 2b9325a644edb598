"""Registers nothing extra: the core commands are built into :mod:`motools.cli`.

Kept as a default plugin so that core features go through the same hooks as
third-party ones (``motools plugins --all`` lists it).
"""

from typing import Any

from motools.hookspecs import hookimpl


@hookimpl
def register_commands(app: Any) -> None:
    return None
