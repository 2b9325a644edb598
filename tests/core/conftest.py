"""Fixtures for the core tests: the core test plugin in-process and for subprocesses."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.support.plugin_dist import (
    CORE_DIST,
    CORE_ENTRY_POINTS,
    CliResult,
    cli_env,
    make_dist,
    run_cli,
)


@pytest.fixture(scope="session")
def core_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory that, on PYTHONPATH, installs the core test plugin (``core-test-plugin``)."""
    return make_dist(tmp_path_factory.mktemp("core_site"), CORE_DIST, CORE_ENTRY_POINTS)


@pytest.fixture
def log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The file test steps append their names to (``$CORE_TEST_LOG``), here and in subprocesses."""
    path = tmp_path / "executions.log"
    monkeypatch.setenv("CORE_TEST_LOG", str(path))
    return path


@pytest.fixture
def home_store() -> Any:
    """The store at ``$MOTOOLS_HOME``: the one CLI subprocesses of this test use."""
    from motools.settings import set_store_override
    from motools.store import get_store

    root = Path(os.environ["MOTOOLS_HOME"])
    set_store_override(root)
    return get_store(root)


@pytest.fixture
def core_plugins(plugins: Any) -> Any:
    """Register the core test plugin and the test training backend in this process."""
    plugins("tests.support.core_plugin", "tests.support.test_backend")
    return plugins


@pytest.fixture
def cli(core_site: Path, log: Path) -> Callable[..., CliResult]:
    """``cli("workflow", "list", env_extra={...})`` runs motools with the core plugin installed."""

    def run(
        *args: str, input: str | None = None, timeout: float = 60, **env_extra: str
    ) -> CliResult:
        return run_cli(*args, env=cli_env(core_site, **env_extra), input=input, timeout=timeout)

    return run


@pytest.fixture
def mt(core_plugins: Any, home_store: Any, log: Path) -> Callable[..., CliResult]:
    """``mt("cache", "ls")``: motools in this process, with the core test plugin and store."""
    from tests.support.cli_inprocess import invoke

    return invoke
