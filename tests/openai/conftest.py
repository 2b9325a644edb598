"""Fixtures for the openai backend tests: a loopback OpenAI-compatible server and datasets."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.openai.openai_train_workflow import write_chat_dataset
from tests.support.fake_openai_server import FakeOpenAIServer

FAKE_KEY = "sk-fake-motools-test-0123456789abcdef"


@pytest.fixture
def fake_openai(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeOpenAIServer]:
    """A running fake server; ``OPENAI_BASE_URL`` and a fake ``OPENAI_API_KEY`` point at it."""
    server = FakeOpenAIServer(api_key=FAKE_KEY).start()
    monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", FAKE_KEY)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def openai_plugin(plugins: Any) -> Any:
    """The openai plugin registered in this process."""
    plugins("motools_openai.plugin")
    return plugins


@pytest.fixture
def make_dataset(store: Any, tmp_path: Path) -> Callable[..., Any]:
    """``make_dataset(n=12, start=0)`` -> a dataset atom of ``n`` valid chat rows;
    ``make_dataset(rows=[...])`` stores the given rows (strings are written verbatim)."""
    import json

    counter = iter(range(10_000))

    def make(n: int = 12, start: int = 0, rows: list[Any] | None = None) -> Any:
        path = tmp_path / f"dataset-{next(counter)}.jsonl"
        if rows is None:
            write_chat_dataset(path, n, start)
        else:
            path.write_text(
                "".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows)
            )
        return store.create_atom("dataset", "tester", path, {"source": "test"})

    return make
