"""Fixtures for sweep tests: the test workflow's plugins, fresh counters, a temp store."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture
def sweep_env(plugins: Any, store: Any) -> Any:
    """Register the ``test`` training backend and the ``sweep_test`` workflow; return the store."""
    from tests.support import test_backend
    from tests.sweep import sweep_support

    plugins("tests.support.test_backend", "tests.sweep.sweep_support")
    test_backend.SUBMITTED.clear()
    sweep_support.EVALUATED.clear()
    sweep_support.PREPARED.clear()
    return store
