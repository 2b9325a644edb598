"""Baseline steps: the untrained base model as a model atom, and its evaluation.

``prepare_base_model`` reads the training job (which names the backend and the base
model) and asks that backend for the untrained base model
(:meth:`motools.backends.TrainingBackend.base_model_info`).  ``evaluate_base_model``
runs the same evaluation step as ``evaluate_model`` on it, so the fine-tune and its
base are measured side by side in one run.
"""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path
from typing import Any

from pydantic import Field, PrivateAttr

from motools.backends import TrainingBackend, get_training_backend
from motools.errors import ConfigError, StepFailed
from motools.workflow import AtomConstructor, StepConfig, current_step
from motools.workflow.config import redact


class PrepareBaseModelConfig(StepConfig):
    """Config of ``prepare_base_model``: backend options passed to ``base_model_info``."""

    options: dict[str, Any] = Field(
        default_factory=dict, description="backend options, e.g. device"
    )
    # Set by the workflow config (not part of the cache key) so that a backend without
    # base models is reported before anything runs.
    _training_backend: str | None = PrivateAttr(default=None)

    def validate_for_run(self) -> None:
        if self._training_backend is None:
            return
        backend = get_training_backend(self._training_backend)
        if type(backend).base_model_info is TrainingBackend.base_model_info:
            raise ConfigError(
                f"training backend {self._training_backend!r} cannot describe base models, so "
                "the baseline steps cannot run; remove prepare_base_model/evaluate_base_model "
                "and evaluate the base model with the evaluate_only workflow instead"
            )


def _base_model_info(job: Any, options: dict[str, Any], store: Any) -> Any:
    backend = get_training_backend(job.backend)
    try:
        return backend.base_model_info(job.base_model, options, store)
    except NotImplementedError:
        raise StepFailed(
            "prepare_base_model",
            f"training backend {job.backend!r} cannot describe its base model "
            f"{job.base_model!r}; evaluate it with the evaluate_only workflow instead "
            "(PrepareModelConfig(model=<Inspect model string>))",
        ) from None


async def prepare_base_model(
    config: PrepareBaseModelConfig, input_atoms: dict[str, Any], temp_workspace: Path
) -> list[AtomConstructor]:
    """The untrained base model of the training job input; output: ``base_model``."""
    jobs = [a for a in input_atoms.values() if a.type == "training_job"]
    if len(jobs) != 1:
        raise StepFailed(
            "prepare_base_model", f"expected one training_job input, got {list(input_atoms)}"
        )
    job = jobs[0]
    ctx = current_step()
    store = ctx.store if ctx is not None else job.store
    info = await asyncio.to_thread(_base_model_info, job, dict(config.options), store)
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
