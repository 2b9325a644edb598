"""motools plugin entry module: registers only; the work lives in lazily imported modules."""

from __future__ import annotations

from typing import Any

from motools.hookspecs import hookimpl
from motools.specs import TrainingBackendSpec


@hookimpl
def register_training_backends(register: Any) -> None:
    """Register the ``openai`` training backend (OpenAI and OpenAI-compatible endpoints)."""
    register(
        TrainingBackendSpec(
            name="openai",
            impl="motools_openai.backend:OpenAIBackend",
            description="Fine-tuning through the OpenAI API or any OpenAI-compatible endpoint (base_url / OPENAI_BASE_URL)",
            required_env=("OPENAI_API_KEY",),
        )
    )
