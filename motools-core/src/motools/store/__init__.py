"""The content-addressed store (see :mod:`motools.store.content_store`)."""

from __future__ import annotations

from pathlib import Path

from motools.store.content_store import ContentStore, canonical_json, utcnow

_stores: dict[Path, ContentStore] = {}


def get_store(path: str | Path | None = None) -> ContentStore:
    """The store at ``path`` (default: :func:`motools.settings.store_dir`), cached per path."""
    from motools.settings import store_dir

    root = Path(path).expanduser().resolve() if path else store_dir()
    s = _stores.get(root)
    if s is None:
        s = _stores[root] = ContentStore(root)
    return s


__all__ = ["ContentStore", "canonical_json", "get_store", "utcnow"]
