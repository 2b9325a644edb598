"""Atom ids: ``{type}-{user}-{hash}``.

The type is ``atom_id.split("-")[0]``; the hash is the last ``-`` separated part (at
least 16 hex digits); the user (the creator) is what lies between.  User names are
lowercase letters, digits and ``_``; ``-`` is accepted inside a name (``example-user``)
because the type and hash are parsed from the ends.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from motools.errors import InvalidAtomId, UserError

TYPE_RE = re.compile(r"^[a-z][a-z0-9_]*$")
USER_RE = re.compile(r"^[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?$")
HASH_RE = re.compile(r"^[0-9a-f]{16,64}$")
HASH_LEN = 16


class ParsedId(NamedTuple):
    """The three parts of an atom id."""

    type: str
    user: str
    hash: str


def validate_user(user: str) -> str:
    """Return ``user`` if it is a valid user name, else raise a :class:`UserError`."""
    if not isinstance(user, str) or not USER_RE.match(user) or len(user) > 64:
        raise UserError(
            f"invalid user name {user!r}: use lowercase letters, digits and '_' "
            "(a '-' is allowed inside the name), at most 64 characters"
        )
    return user


def validate_type_name(name: str) -> str:
    """Return ``name`` if it is a valid atom type name (lowercase identifier, no '-')."""
    if not isinstance(name, str) or not TYPE_RE.match(name):
        raise UserError(
            f"invalid atom type name {name!r}: use a lowercase identifier "
            "(letters, digits, '_', no '-')"
        )
    return name


def parse_atom_id(atom_id: str) -> ParsedId:
    """Split an atom id into (type, user, hash), or raise :class:`InvalidAtomId`."""
    if not isinstance(atom_id, str):
        raise InvalidAtomId(f"atom id must be a string, got {type(atom_id).__name__}")
    parts = atom_id.split("-")
    if len(parts) < 3:
        raise InvalidAtomId(
            f"malformed atom id {atom_id!r}: expected '{{type}}-{{user}}-{{hash}}', "
            "e.g. 'dataset-alice-3f9c2a1b4e5d6f70'"
        )
    type_, hash_ = parts[0], parts[-1]
    user = "-".join(parts[1:-1])
    if not TYPE_RE.match(type_) or not USER_RE.match(user) or not HASH_RE.match(hash_):
        raise InvalidAtomId(
            f"malformed atom id {atom_id!r}: expected '{{type}}-{{user}}-{{hash}}' with a "
            "lowercase type, a user name and at least 16 hex digits"
        )
    return ParsedId(type_, user, hash_)


def atom_type_of(atom_id: str) -> str:
    """The type part of an atom id (``atom_id.split("-")[0]``)."""
    return atom_id.split("-")[0]
