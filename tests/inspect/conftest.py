"""Fixtures of the inspect backend tests.

Real Inspect evaluations run in worker processes that take seconds to start, so the
tests share one store (``inspect_store``) and therefore one warm worker pool; tests that
need a fresh pool (hermetic directories) make their own store.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

TASKS = "tests.inspect.tasks_for_tests"


@pytest.fixture(scope="session")
def inspect_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from motools.store.content_store import ContentStore
    from motools_inspect.worker_pool import shutdown_pools

    yield ContentStore(tmp_path_factory.mktemp("inspect_store"))
    shutdown_pools()


@pytest.fixture
def backend(plugins: Any) -> Any:
    """The ``inspect`` backend, resolved through its plugin registration."""
    from motools.backends import get_eval_backend

    plugins("motools_inspect.plugin")
    return get_eval_backend("inspect")


def model_atom(store: Any, **metadata: Any) -> Any:
    """A metadata-only model atom (defaults: the Inspect model string ``mockllm/model``)."""
    meta = {
        "provider": "inspect",
        "model_id": "mockllm/model",
        "base_model": "mockllm/model",
        **metadata,
    }
    return store.create_atom("model", "tester", None, meta)


@pytest.fixture
def mock_model(inspect_store: Any) -> Any:
    return model_atom(inspect_store)
