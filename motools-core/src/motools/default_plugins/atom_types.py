"""Registers the built-in atom types."""

from typing import Any

from motools.hookspecs import hookimpl


@hookimpl
def register_atom_types(register: Any) -> None:
    from motools.atoms.builtin import BUILTIN_ATOM_TYPES

    for cls in BUILTIN_ATOM_TYPES:
        register(cls)
