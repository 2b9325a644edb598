"""Where the store lives and who the user is.

Store directory, first match wins: ``--store PATH`` (CLI), ``MOTOOLS_HOME``, the
``store`` key of the user config file, the platformdirs user data dir for "motools".

User config file: ``MOTOOLS_CONFIG`` or ``<platformdirs user config dir>/motools/config.yaml``
with optional keys ``user`` (default user name) and ``store`` (default store path).
"""

from __future__ import annotations

import getpass
import os
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

from motools.errors import ConfigError

_store_override: Path | None = None


def config_file() -> Path:
    """Path of the user config file (it may not exist)."""
    env = os.environ.get("MOTOOLS_CONFIG")
    if env:
        return Path(env)
    import platformdirs

    return Path(platformdirs.user_config_dir("motools")) / "config.yaml"


@lru_cache(maxsize=8)
def _read_user_config(path: str, mtime: float) -> dict[str, Any]:
    import yaml

    try:
        data = yaml.safe_load(Path(path).read_text()) or {}
    except yaml.YAMLError as e:
        raise ConfigError(f"{path}: not valid YAML: {e}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping with keys 'user' and/or 'store'")
    unknown = set(data) - {"user", "store"}
    if unknown:
        raise ConfigError(f"{path}: unknown keys {sorted(unknown)}; allowed: 'user', 'store'")
    return data


def user_config() -> dict[str, Any]:
    """The parsed user config file, or ``{}`` when there is none."""
    path = config_file()
    try:
        mtime = path.stat().st_mtime
    except OSError:
        return {}
    return _read_user_config(str(path), mtime)


def set_store_override(path: str | Path | None) -> None:
    """Make ``path`` the store directory for this process (the CLI's ``--store``)."""
    global _store_override
    _store_override = Path(path).expanduser().resolve() if path else None


def store_dir() -> Path:
    """The store directory, resolved as described in the module docstring."""
    if _store_override is not None:
        return _store_override
    env = os.environ.get("MOTOOLS_HOME")
    if env:
        return Path(env).expanduser().resolve()
    cfg = user_config().get("store")
    if cfg:
        return Path(str(cfg)).expanduser().resolve()
    import platformdirs

    return Path(platformdirs.user_data_dir("motools"))


def default_user() -> str:
    """Default user name: user config ``user``, then ``$USER`` (normalised)."""
    cfg = user_config().get("user")
    if cfg:
        return str(cfg)
    raw = os.environ.get("USER") or os.environ.get("USERNAME")
    if not raw:
        try:
            raw = getpass.getuser()
        except Exception:
            raw = "user"
    norm = re.sub(r"[^a-z0-9_]", "_", raw.lower()).strip("_")
    return norm or "user"
