"""Fixtures for the zoo tests: a loopback server serving fixture dataset files."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.fixture_http_server import FixtureServer, serve_files
from tests.zoo.zoo_support import write_fixture_tree


@pytest.fixture
def zoo_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FixtureServer]:
    """Fixture files for every remote dataset, served over loopback; the working directory
    is a fresh temp dir (so the default cache ``.motools/datasets`` lands there) and
    ``MOZOO_DATASET_BASE_URL`` points at the server."""
    root = tmp_path / "served"
    write_fixture_tree(root)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    for var in [v for v in __import__("os").environ if v.startswith("MOZOO_")]:
        monkeypatch.delenv(var)
    with serve_files(root) as server:
        monkeypatch.setenv("MOZOO_DATASET_BASE_URL", server.base_url)
        yield server


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    """A dataset base URL nothing listens on (a closed loopback port): downloads fail fast."""
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    url = f"http://127.0.0.1:{port}"
    monkeypatch.setenv("MOZOO_DATASET_BASE_URL", url)
    work = tmp_path / "work-offline"
    work.mkdir()
    monkeypatch.chdir(work)
    return url
