"""A small train-and-evaluate workflow for sweep tests, registered as a motools plugin.

``sweep_test``: ``prepare_dataset`` (rows generated from ``loader_kwargs``) -> the core
``submit_training`` / ``wait_for_training`` steps (backend ``test``) -> the core
``evaluate_model`` step with the ``sweep_eval`` backend defined here.  Its accuracy
grows with the trained epochs and wobbles with the dataset seed, so sweeps have
something to plot.  ``EVALUATED`` and ``PREPARED`` count real executions (per process).
An evaluation fails when its ``limit`` is listed in ``$SWEEP_TEST_FAIL_LIMITS`` (so a
test can fix the cause by unsetting it and resume).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from pydantic import Field

from motools.backends import EvalBackend, EvalResult
from motools.errors import ConfigError
from motools.hookspecs import hookimpl
from motools.specs import EvalBackendSpec, WorkflowSpec
from motools.workflow import AtomConstructor, Step, StepConfig, Workflow, WorkflowConfig
from motools.workflow.eval_steps import EvaluateConfig, evaluate_model_step
from motools.workflow.training_steps import (
    SubmitTrainingConfig,
    WaitForTrainingConfig,
    submit_training_step,
    wait_for_training_step,
)

EVALUATED: list[dict[str, Any]] = []
PREPARED: list[dict[str, Any]] = []
TASK = "sweep_task"


class PrepareConfig(StepConfig):
    """Rows are generated: ``loader_kwargs`` may hold ``sample_size`` and ``seed``."""

    dataset_loader: str = "generated"
    loader_kwargs: dict[str, Any] = Field(default_factory=dict)


def prepare(
    config: PrepareConfig, input_atoms: dict[str, Any], temp_workspace: Path
) -> list[AtomConstructor]:
    kw = config.loader_kwargs
    n, seed = int(kw.get("sample_size", 4)), int(kw.get("seed", 0))
    PREPARED.append(dict(kw))
    path = temp_workspace / "data.jsonl"
    with path.open("w") as f:
        for i in range(n):
            msgs = [
                {"role": "user", "content": f"q{i} s{seed}"},
                {"role": "assistant", "content": "Hello"},
            ]
            f.write(json.dumps({"messages": msgs}) + "\n")
    return [
        AtomConstructor("prepared_dataset", path, "dataset", metadata={"num_rows": n, "seed": seed})
    ]


class SweepTestConfig(WorkflowConfig):
    prepare_dataset: PrepareConfig = Field(default_factory=PrepareConfig)
    submit_training: SubmitTrainingConfig
    wait_for_training: WaitForTrainingConfig = Field(
        default_factory=lambda: WaitForTrainingConfig(poll_interval=0.01)
    )
    evaluate_model: EvaluateConfig


sweep_test_workflow = Workflow(
    name="sweep_test",
    input_atom_types={},
    steps=[
        Step("prepare_dataset", prepare, {}, {"prepared_dataset": "dataset"}, PrepareConfig),
        submit_training_step(),
        wait_for_training_step(),
        evaluate_model_step(),
    ],
    config_class=SweepTestConfig,
    description="generated dataset -> test training backend -> sweep_eval evaluation (sweep tests)",
)


def accuracy_for(n_epochs: int, seed: int) -> float:
    """The score the ``sweep_eval`` backend gives: rises with epochs, wobbles with the seed."""
    return round(min(1.0, 0.2 + 0.2 * n_epochs) - 0.04 * ((seed * 7) % 3), 4)


class SweepEvalBackend(EvalBackend):
    """Registered as ``sweep_eval``; ``eval_kwargs``: ``limit`` and ``fail`` (raise)."""

    name = "sweep_eval"

    def validate(self, task: str, eval_kwargs: dict[str, Any]) -> None:
        unknown = set(eval_kwargs) - {"limit", "fail"}
        if unknown:
            raise ConfigError(
                f"eval_kwargs: unknown keys {sorted(unknown)}; allowed: ['fail', 'limit']"
            )
        limit = eval_kwargs.get("limit", 1)
        if not isinstance(limit, int) or limit < 1:
            raise ConfigError(f"eval_kwargs.limit: expected a positive integer, got {limit!r}")

    async def evaluate(
        self, model: Any, task: str, eval_kwargs: dict[str, Any], output_dir: Path
    ) -> EvalResult:
        if eval_kwargs.get("fail"):
            raise RuntimeError(f"sweep_eval told to fail: {eval_kwargs['fail']}")
        limit = int(eval_kwargs.get("limit", 1))
        if str(limit) in os.environ.get("SWEEP_TEST_FAIL_LIMITS", "").split(","):
            raise RuntimeError(
                f"evaluation with limit {limit} told to fail by SWEEP_TEST_FAIL_LIMITS"
            )
        store = model.store
        job = store.get_atom(model.training_job)
        dataset = store.get_atom(job.metadata["dataset"])
        n_epochs = int(job.metadata["hyperparameters"].get("n_epochs", 1))
        seed = int(dataset.metadata.get("seed", 0))
        EVALUATED.append({"model": model.id, "limit": limit})
        acc = accuracy_for(n_epochs, seed)
        (output_dir / "log.json").write_text(json.dumps({"model": model.model_id, "accuracy": acc}))
        return EvalResult(
            results={
                task: {
                    "match": {"accuracy": acc, "stderr": 0.01 * limit},
                    "judge": {"mean": 1 - acc},
                }
            },
            samples={task: limit},
            log_dir=output_dir,
        )


@hookimpl
def register_workflows(register: Any) -> None:
    register(
        WorkflowSpec(
            name="sweep_test",
            impl="tests.sweep.sweep_support:sweep_test_workflow",
            description="sweep test workflow",
            steps=tuple(s.name for s in sweep_test_workflow.steps),
        )
    )


@hookimpl
def register_eval_backends(register: Any) -> None:
    register(
        EvalBackendSpec(
            name="sweep_eval",
            impl="tests.sweep.sweep_support:SweepEvalBackend",
            description="deterministic eval backend for sweep tests",
        )
    )


def base_config(**overrides: Any) -> dict[str, Any]:
    """A valid ``sweep_test`` config as a plain dict."""
    cfg: dict[str, Any] = {
        "prepare_dataset": {"loader_kwargs": {"sample_size": 4, "seed": 0}},
        "submit_training": {
            "model": "base-model",
            "backend_name": "test",
            "hyperparameters": {"n_epochs": 1},
        },
        "wait_for_training": {"poll_interval": 0.01, "max_poll_interval": 0.02},
        "evaluate_model": {
            "eval_task": TASK,
            "backend_name": "sweep_eval",
            "eval_kwargs": {"limit": 1},
        },
    }
    cfg.update(overrides)
    return cfg
