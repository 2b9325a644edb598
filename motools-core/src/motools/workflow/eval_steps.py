"""Core evaluation step: run an evaluation backend on a model atom -> ``eval`` atom."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from pydantic import Field

from motools.atoms.base import Atom
from motools.backends import get_eval_backend
from motools.errors import StepFailed
from motools.workflow.config import StepConfig
from motools.workflow.context import current_step
from motools.workflow.core import AtomConstructor, Step


class EvaluateConfig(StepConfig):
    """Config of an evaluation step: task reference, backend, pass-through kwargs."""

    backend_registry: ClassVar[str] = "eval"

    eval_task: str = Field(description="'module:function', a registry name, or a task file")
    backend_name: str = "inspect"
    eval_kwargs: dict[str, Any] = Field(default_factory=dict)

    def validate_for_run(self) -> None:
        get_eval_backend(self.backend_name).validate(self.eval_task, self.eval_kwargs)


async def evaluate_model(
    config: EvaluateConfig, input_atoms: dict[str, Atom], temp_workspace: Path
) -> list[AtomConstructor]:
    """Evaluate the model input on ``config.eval_task``; output: an ``eval`` atom."""
    models = [a for a in input_atoms.values() if a.type == "model"]
    if len(models) != 1:
        raise StepFailed("evaluate_model", f"expected one model input, got {list(input_atoms)}")
    ctx = current_step()
    backend = get_eval_backend(config.backend_name)
    if ctx is not None:
        ctx.progress(f"evaluating {models[0].id} on {config.eval_task}")
    out_dir = temp_workspace / "eval"
    out_dir.mkdir()
    model: Any = models[0]
    res = await backend.evaluate(model, config.eval_task, dict(config.eval_kwargs), out_dir)
    meta = {
        "task": config.eval_task,
        "backend": config.backend_name,
        "model": models[0].id,
        "results": res.results,
        "samples": res.samples,
        "usage": res.usage,
        "duration": res.duration,
        **res.metadata,
    }
    if ctx is not None:
        ctx.record(results=res.results)
    name = ctx.output_name("eval", "eval_results") if ctx is not None else "eval_results"
    return [AtomConstructor(name=name, path=res.log_dir or out_dir, type="eval", metadata=meta)]


def evaluate_model_step(
    name: str = "evaluate_model",
    model_input: str = "model",
    output: str = "eval_results",
    config_class: type = EvaluateConfig,
) -> Step:
    """A ready :class:`Step` running :func:`evaluate_model`."""
    return Step(
        name, evaluate_model, {model_input: "model"}, {output: "eval"}, config_class, version="1"
    )
