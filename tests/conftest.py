"""Shared fixtures: every test gets a temp store, temp user dirs and no installed plugins.

Plugins are isolated: entry-point loading is switched off (``MOTOOLS_LOAD_PLUGINS=""``)
and a test asks for the plugins it needs with the ``plugins`` fixture, which registers
them explicitly and unregisters them afterwards.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # so that `tests.support` imports in subprocesses too


@pytest.fixture(autouse=True)
def _hermetic(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    home = tmp_path_factory.mktemp("motools_home")
    cfg = tmp_path_factory.mktemp("motools_cfg")
    monkeypatch.setenv("MOTOOLS_HOME", str(home))
    monkeypatch.setenv("MOTOOLS_CONFIG", str(cfg / "config.yaml"))
    monkeypatch.setenv("MOTOOLS_LOAD_PLUGINS", "")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")
    monkeypatch.setenv("INSPECT_LOG_DIR", str(home / "inspect-logs"))
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    from motools import plugins, settings
    from motools.backends import clear_backend_instances

    settings.set_store_override(None)
    plugins.reset_for_tests()
    clear_backend_instances()
    yield
    plugins.reset_for_tests()
    clear_backend_instances()
    settings.set_store_override(None)


@pytest.fixture
def store(tmp_path: Path) -> Any:
    """A fresh store in a temp directory (also made the process default)."""
    from motools.settings import set_store_override
    from motools.store import get_store

    root = tmp_path / "store"
    set_store_override(root)
    return get_store(root)


class PluginRegistrar:
    """Registers plugin modules for one test and unregisters them afterwards."""

    def __init__(self) -> None:
        self.names: list[str] = []

    def __call__(self, *modules: str | Any) -> None:
        from motools import plugins

        for m in modules:
            mod = importlib.import_module(m) if isinstance(m, str) else m
            name = getattr(mod, "__name__", repr(mod))
            plugins.register_plugin(mod, name=name)
            self.names.append(name)

    def cleanup(self) -> None:
        from motools import plugins

        for n in self.names:
            try:
                plugins.unregister_plugin(n)
            except Exception:
                pass


@pytest.fixture
def plugins() -> Iterator[PluginRegistrar]:
    """``plugins("motools_hf.plugin", "tests.support.test_backend")`` registers them for this test."""
    reg = PluginRegistrar()
    yield reg
    reg.cleanup()


def cli_env(**extra: str) -> dict[str, str]:
    """Environment for running the ``motools`` CLI in a subprocess (hermetic)."""
    env = dict(os.environ)
    env.update(extra)
    return env
