"""motools plugin entry module: registers only; the work lives in lazily imported modules."""

from __future__ import annotations

from typing import Any

from motools.hookspecs import hookimpl
from motools.specs import TrainingBackendSpec


@hookimpl
def register_training_backends(register: Any) -> None:
    """Register the ``hf`` local fine-tuning backend."""
    register(
        TrainingBackendSpec(
            name="hf",
            impl="motools_hf.backend:HFBackend",
            description="local fine-tuning with transformers + peft (LoRA or full; CPU or CUDA); no API key",
        )
    )
