"""The :class:`Atom` base class: an immutable, typed, content-addressed artifact."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from motools.store import ContentStore


class Atom:
    """An immutable artifact in the store.

    Subclasses set ``type`` (a lowercase identifier without ``-``) and may bump
    ``schema_version`` when the meaning of their metadata changes (it is part of the
    content hash).  Instances are created by the store, never directly: use
    :meth:`Atom.load` or :meth:`ContentStore.create_atom`.
    """

    type: ClassVar[str] = ""
    schema_version: ClassVar[int] = 1

    def __init__(self, record: dict[str, Any], store: ContentStore):
        self._record = record
        self._store = store

    # -- identity --------------------------------------------------------------
    @property
    def id(self) -> str:
        """The atom id, ``{type}-{user}-{hash}``."""
        return str(self._record["id"])

    @property
    def user(self) -> str:
        """The user who created this atom."""
        return str(self._record["user"])

    @property
    def hash(self) -> str:
        """The atom hash (type + content + metadata + schema version)."""
        return str(self._record["hash"])

    @property
    def content_hash(self) -> str | None:
        """sha256 of the data files (``None`` for metadata-only atoms)."""
        return self._record.get("content_hash")

    @property
    def metadata(self) -> dict[str, Any]:
        """The atom's metadata (part of its hash)."""
        return dict(self._record.get("metadata") or {})

    @property
    def provenance(self) -> dict[str, Any]:
        """Who, what and where made this atom (not part of its hash)."""
        return dict(self._record.get("provenance") or {})

    @property
    def created_at(self) -> str:
        """ISO-8601 UTC creation time."""
        return str(self._record["created_at"])

    @property
    def size_bytes(self) -> int:
        """Bytes of data files."""
        return int(self._record.get("size_bytes") or 0)

    @property
    def store(self) -> ContentStore:
        """The store holding this atom."""
        return self._store

    def get_data_path(self) -> Path:
        """Directory holding the atom's data files (read-only; may be empty)."""
        return self._store.data_path(self.content_hash)

    def files(self) -> list[Path]:
        """Every data file of the atom, sorted."""
        root = self.get_data_path()
        if not root.exists():
            return []
        return sorted(p for p in root.rglob("*") if p.is_file())

    @classmethod
    def load(cls, atom_id: str, store: ContentStore | None = None) -> Atom:
        """Load an atom by id from ``store`` (default: the configured store)."""
        from motools.store import get_store

        atom = (store or get_store()).get_atom(atom_id)
        if cls is not Atom and not isinstance(atom, cls):
            from motools.errors import UserError

            raise UserError(f"atom {atom_id} is a {atom.type!r}, not a {cls.type!r}")
        return atom

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.id}>"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Atom) and other.id == self.id

    def __hash__(self) -> int:
        return hash(self.id)
