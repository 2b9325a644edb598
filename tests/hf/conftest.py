"""Fixtures of the hf backend tests."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture
def hf(plugins: Any) -> Any:
    """The ``hf`` training backend, resolved through its plugin registration."""
    from motools.backends import get_training_backend

    plugins("motools_hf.plugin")
    return get_training_backend("hf")
