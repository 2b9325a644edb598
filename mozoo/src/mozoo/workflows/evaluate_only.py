"""The ``evaluate_only`` workflow: evaluate one model, trained by motools or not.

Steps: ``prepare_model`` -> ``evaluate_model``.  The model is named in the config, so
the workflow declares no inputs (inputs are declared statically, and a workflow that
*required* a model atom could not evaluate a named model):

- ``PrepareModelConfig(model_atom="model-alice-1a2b...")``: a model atom already in
  the store, e.g. a fine-tune from ``train_and_evaluate``.  The output is that very
  atom (same content, same hash).
- ``PrepareModelConfig(model="openai/gpt-4o-mini")``, ``"hflocal/<dir>"`` (motools-hf, offline) or any Inspect
  model string: becomes a model atom with provider ``inspect`` and ``model_id`` the
  string, which the Inspect backend passes through unchanged.  This is how the
  untrained baseline is measured next to a fine-tune.

```python
from mozoo.workflows.evaluate_only import (
    EvaluateOnlyConfig, PrepareModelConfig, evaluate_only_workflow)
```
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import Field, model_validator

from motools.atoms.ids import atom_type_of, parse_atom_id
from motools.errors import ConfigError, StepFailed
from motools.workflow import (
    AtomConstructor,
    Step,
    StepConfig,
    Workflow,
    WorkflowConfig,
    current_step,
)
from motools.workflow.eval_steps import evaluate_model_step
from mozoo.workflows.train_and_evaluate import EvaluateModelConfig


class PrepareModelConfig(StepConfig):
    """Config of ``prepare_model``: exactly one of ``model`` (an Inspect model string)
    or ``model_atom`` (a model atom id); ``model_args`` are passed to Inspect's model."""

    model: str | None = Field(
        default=None, description="Inspect model string, e.g. openai/gpt-4o-mini"
    )
    model_atom: str | None = Field(default=None, description="id of a model atom in the store")
    model_args: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _exactly_one(self) -> PrepareModelConfig:
        if (self.model is None) == (self.model_atom is None):
            raise ValueError(
                "give exactly one of 'model' (an Inspect model string) or 'model_atom' (a model atom id)"
            )
        if self.model is not None and "/" not in self.model.strip("/"):
            raise ValueError(
                f"model {self.model!r} is not an Inspect model string: expected provider/name, "
                "e.g. openai/gpt-4o-mini or hflocal/path/to/model"
            )
        if self.model_atom is not None and self.model_args:
            raise ValueError("model_args only apply to 'model'; a model atom carries its own")
        return self

    def validate_for_run(self) -> None:
        if self.model_atom is not None:
            parse_atom_id(self.model_atom)
            if atom_type_of(self.model_atom) != "model":
                raise ConfigError(
                    f"model_atom {self.model_atom} is a {atom_type_of(self.model_atom)!r} atom, not a model"
                )


class EvaluateOnlyConfig(WorkflowConfig):
    """Config of ``evaluate_only``: which model, and how to evaluate it."""

    prepare_model: PrepareModelConfig
    evaluate_model: EvaluateModelConfig


def prepare_model(
    config: PrepareModelConfig, input_atoms: dict[str, Any], temp_workspace: Path
) -> list[AtomConstructor]:
    """The model to evaluate as a model atom; output: ``model``."""
    if config.model is not None:
        meta: dict[str, Any] = {
            "provider": "inspect",
            "model_id": config.model,
            "base_model": config.model,
        }
        if config.model_args:
            # The mapping contract: model args travel with an explicit inspect_model.
            meta["inspect_model"] = config.model
            meta["inspect_model_args"] = dict(config.model_args)
        return [AtomConstructor(name="model", path=None, type="model", metadata=meta)]
    ctx = current_step()
    if ctx is None:
        raise StepFailed("prepare_model", "must run inside a workflow (it reads the store)")
    atom_id = str(config.model_atom)
    if not ctx.store.has_atom(atom_id):
        raise StepFailed(
            "prepare_model", f"model atom {atom_id} is not in the store at {ctx.store.root}"
        )
    atom = ctx.store.get_atom(atom_id)
    # Re-emitting the same content and metadata yields the very same atom.
    path = atom.get_data_path() if atom.files() else None
    return [AtomConstructor(name="model", path=path, type="model", metadata=atom.metadata)]


evaluate_only_workflow = Workflow(
    name="evaluate_only",
    input_atom_types={},
    steps=[
        Step(
            "prepare_model",
            prepare_model,
            {},
            {"model": "model"},
            PrepareModelConfig,
            version="1",
            description="the model to evaluate: a model atom, or a model named by an Inspect model string",
        ),
        evaluate_model_step(config_class=EvaluateModelConfig),
    ],
    config_class=EvaluateOnlyConfig,
    description="evaluate one model (a model atom or any Inspect model string) on a task",
)

__all__ = [
    "EvaluateModelConfig",
    "EvaluateOnlyConfig",
    "PrepareModelConfig",
    "evaluate_only_workflow",
]
