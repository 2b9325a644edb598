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
        try:
            s = _stores[root] = ContentStore(root)
        except OSError as e:
            from motools.errors import ConfigError

            why = "it is a file, not a directory" if root.is_file() else (e.strerror or str(e))
            raise ConfigError(
                f"cannot use {root} as the motools store: {why}. Choose another "
                "directory with --store PATH, MOTOOLS_HOME or 'store:' in the user config "
                f"({_config_file_hint()})"
            ) from None
    return s


def _config_file_hint() -> str:
    from motools.settings import config_file

    return str(config_file())


__all__ = ["ContentStore", "canonical_json", "get_store", "utcnow"]
