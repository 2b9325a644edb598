"""Baseline steps: the untrained base model as a model atom, and its evaluation.

``prepare_base_model`` asks the training backend for the untrained base model
(:meth:`motools.backends.TrainingBackend.base_model_info`).  It takes the base model,
backend and options from ``submit_training``'s config (the workflow config fills them
in), not from the training job: so it does not wait for, or re-run with, the training,
and changing hyperparameters leaves the baseline a cache hit.  ``evaluate_base_model``
runs the same evaluation step as ``evaluate_model`` on it, so the fine-tune and its
base are measured side by side in one run.
"""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path
from typing import Any

from pydantic import Field

from motools.backends import TrainingBackend, get_training_backend
from motools.errors import ConfigError, StepFailed
from motools.workflow import AtomConstructor, StepConfig, current_step
from motools.workflow.config import redact


class PrepareBaseModelConfig(StepConfig):
    """Config of ``prepare_base_model``: the base model, its training backend and the
    backend options; ``train_and_evaluate`` fills each one left out from
    ``submit_training``."""

    model: str | None = Field(default=None, description="default: submit_training.model")
    backend_name: str | None = Field(
        default=None, description="default: submit_training.backend_name"
    )
    options: dict[str, Any] | None = Field(
        default=None, description="backend options (default: submit_training.options)"
    )

    def validate_for_run(self) -> None:
        if self.backend_name is None or self.model is None:
            raise ConfigError("prepare_base_model: model and backend_name are required")
        backend = get_training_backend(self.backend_name)
        if type(backend).base_model_info is TrainingBackend.base_model_info:
            raise ConfigError(
                f"training backend {self.backend_name!r} cannot describe base models, so "
                "the baseline steps cannot run; remove prepare_base_model/evaluate_base_model "
                "and evaluate the base model with the evaluate_only workflow instead"
            )


def _base_model_info(backend_name: str, model: str, options: dict[str, Any], store: Any) -> Any:
    backend = get_training_backend(backend_name)
    try:
        return backend.base_model_info(model, options, store)
    except NotImplementedError:
        raise StepFailed(
            "prepare_base_model",
            f"training backend {backend_name!r} cannot describe its base model "
            f"{model!r}; evaluate it with the evaluate_only workflow instead "
            "(PrepareModelConfig(model=<Inspect model string>))",
        ) from None


async def prepare_base_model(
    config: PrepareBaseModelConfig, input_atoms: dict[str, Any], temp_workspace: Path
) -> list[AtomConstructor]:
    """The untrained base model named in the config; output: ``base_model``."""
    ctx = current_step()
    if ctx is None or config.model is None or config.backend_name is None:
        raise StepFailed("prepare_base_model", "needs a workflow run, a model and a backend")
    info = await asyncio.to_thread(
        _base_model_info, config.backend_name, config.model, dict(config.options or {}), ctx.store
    )
    meta = {
        "provider": info.provider,
        "model_id": info.model_id,
        "base_model": info.base_model,
        **redact(info.metadata),
    }
    path = None
    if info.weights_path is not None:
        path = temp_workspace / "model"
        path.mkdir()
        await asyncio.to_thread(shutil.copytree, info.weights_path, path / "weights")
    return [AtomConstructor(name="base_model", path=path, type="model", metadata=meta)]
