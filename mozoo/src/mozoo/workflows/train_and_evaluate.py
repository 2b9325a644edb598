"""The ``train_and_evaluate`` workflow: dataset -> fine-tune -> evaluation (+ optional baseline).

Steps and the atoms they pass (resolved by name)::

    prepare_dataset      -> prepared_dataset (dataset)
    submit_training      prepared_dataset -> job (training_job)
    wait_for_training    job -> model (model)
    evaluate_model       model -> eval_results (eval)
    prepare_base_model   -> base_model (model), from submit_training's model   optional
    evaluate_base_model  base_model -> base_eval_results (eval)  optional

The two baseline steps run when their config is given: the untrained base model is
evaluated on the same task next to the fine-tune.  Giving ``evaluate_base_model``
alone enables ``prepare_base_model`` with default options.

```python
from mozoo.workflows.train_and_evaluate import (
    TrainAndEvaluateConfig, PrepareDatasetConfig, EvaluateModelConfig,
    train_and_evaluate_workflow)
```
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, model_validator

from motools.workflow import Step, Workflow, WorkflowConfig
from motools.workflow.eval_steps import EvaluateConfig, evaluate_model, evaluate_model_step
from motools.workflow.training_steps import (
    SubmitTrainingConfig,
    WaitForTrainingConfig,
    submit_training_step,
    wait_for_training_step,
)
from mozoo.workflows.baseline import PrepareBaseModelConfig, prepare_base_model
from mozoo.workflows.prepare_dataset import (
    PrepareDatasetConfig,
    loader_fingerprint,
    prepare_dataset,
)


class EvaluateModelConfig(EvaluateConfig):
    """Config of ``evaluate_model``: ``eval_task`` (``"module:function"`` or an Inspect
    registry name such as ``mozoo/hello_world``), ``backend_name`` (default
    ``"inspect"``) and ``eval_kwargs`` passed to the evaluation backend (e.g. ``limit``)."""


class TrainAndEvaluateConfig(WorkflowConfig):
    """Config of ``train_and_evaluate``: one field per step."""

    prepare_dataset: PrepareDatasetConfig
    submit_training: SubmitTrainingConfig
    wait_for_training: WaitForTrainingConfig = Field(default_factory=WaitForTrainingConfig)
    evaluate_model: EvaluateModelConfig
    prepare_base_model: PrepareBaseModelConfig | None = None
    evaluate_base_model: EvaluateModelConfig | None = None

    @model_validator(mode="before")
    @classmethod
    def _baseline_needs_base_model(cls, data: Any) -> Any:
        # Asking for a baseline evaluation implies preparing the base model.
        if (
            isinstance(data, dict)
            and data.get("evaluate_base_model") is not None
            and data.get("prepare_base_model") is None
        ):
            data = {**data, "prepare_base_model": {}}
        return data

    @model_validator(mode="after")
    def _base_model_defaults_from_training(self) -> TrainAndEvaluateConfig:
        base = self.prepare_base_model
        if base is not None:
            train = self.submit_training
            # object.__setattr__: no re-validation of the whole config on each assignment
            if base.model is None:
                object.__setattr__(base, "model", train.model)
            if base.backend_name is None:
                object.__setattr__(base, "backend_name", train.backend_name)
            if base.options is None:
                object.__setattr__(base, "options", dict(train.options))
        return self


train_and_evaluate_workflow = Workflow(
    name="train_and_evaluate",
    input_atom_types={},
    steps=[
        Step(
            "prepare_dataset",
            prepare_dataset,
            {},
            {"prepared_dataset": "dataset"},
            PrepareDatasetConfig,
            version="1",
            description="call the dataset loader and store its rows as a dataset atom",
            cheap=True,
            cache_identity=loader_fingerprint,
        ),
        submit_training_step(),
        wait_for_training_step(),
        evaluate_model_step(config_class=EvaluateModelConfig),
        Step(
            "prepare_base_model",
            prepare_base_model,
            {},
            {"base_model": "model"},
            PrepareBaseModelConfig,
            version="1",
            description="the untrained base model of the job, for a baseline",
            optional=True,
        ),
        Step(
            "evaluate_base_model",
            evaluate_model,
            {"base_model": "model"},
            {"base_eval_results": "eval"},
            EvaluateModelConfig,
            version="1",
            description="evaluate the untrained base model on the same task",
            optional=True,
        ),
    ],
    config_class=TrainAndEvaluateConfig,
    description="prepare a dataset, fine-tune on it, evaluate the fine-tune (and optionally its base model)",
)

__all__ = [
    "EvaluateModelConfig",
    "PrepareBaseModelConfig",
    "PrepareDatasetConfig",
    "SubmitTrainingConfig",
    "TrainAndEvaluateConfig",
    "WaitForTrainingConfig",
    "train_and_evaluate_workflow",
]
