"""A two-step training workflow (submit -> wait) built from the core steps, for the openai tests.

Also runnable as a script (``python -m tests.openai.openai_train_workflow STORE DATASET_ID``)
so that a test can kill a real process in the middle of a submit.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from motools.workflow import Workflow, WorkflowConfig, run_workflow
from motools.workflow.eval_steps import EvaluateConfig, evaluate_model_step
from motools.workflow.training_steps import (
    SubmitTrainingConfig,
    WaitForTrainingConfig,
    submit_training_step,
    wait_for_training_step,
)

FAST_WAIT = {"poll_interval": 0.01, "max_poll_interval": 0.02, "timeout": 30}


class OpenAITrainConfig(WorkflowConfig):
    submit_training: SubmitTrainingConfig
    wait_for_training: WaitForTrainingConfig = WaitForTrainingConfig(**FAST_WAIT)


train = Workflow(
    name="openai_train",
    input_atom_types={"prepared_dataset": "dataset"},
    steps=[submit_training_step(), wait_for_training_step()],
    config_class=OpenAITrainConfig,
    description="submit_training -> wait_for_training with the openai backend (tests).",
)


class OpenAITrainEvalConfig(OpenAITrainConfig):
    evaluate_model: EvaluateConfig


train_and_evaluate = Workflow(
    name="openai_train_and_evaluate",
    input_atom_types={"prepared_dataset": "dataset"},
    steps=[submit_training_step(), wait_for_training_step(), evaluate_model_step()],
    config_class=OpenAITrainEvalConfig,
    description="Fine-tune with the openai backend, then evaluate with Inspect at the same endpoint (tests).",
)

EVAL_TASK = "tests.openai.openai_train_workflow:arithmetic_task"


def arithmetic_task() -> Any:
    """A two-sample Inspect task: the fake server's reply decides the score."""
    from inspect_ai import Task
    from inspect_ai.dataset import Sample
    from inspect_ai.scorer import includes
    from inspect_ai.solver import generate

    return Task(
        dataset=[Sample(input="2+2?", target="4"), Sample(input="3+3?", target="6")],
        solver=generate(),
        scorer=includes(),
    )


def train_config(
    model: str = "gpt-4o-mini-2024-07-18",
    hyperparameters: dict[str, Any] | None = None,
    suffix: str | None = "organism",
    options: dict[str, Any] | None = None,
    **wait: Any,
) -> dict[str, Any]:
    """A config dict for :data:`train` using the ``openai`` backend."""
    return {
        "submit_training": {
            "model": model,
            "backend_name": "openai",
            "hyperparameters": {"n_epochs": 2} if hyperparameters is None else hyperparameters,
            "suffix": suffix,
            "options": options or {},
        },
        "wait_for_training": {**FAST_WAIT, **wait},
    }


def write_chat_dataset(path: Path, n: int = 12, start: int = 0) -> Path:
    """A valid chat JSONL file of ``n`` rows."""
    with open(path, "w", encoding="utf-8") as f:
        for i in range(start, start + n):
            row = {
                "messages": [
                    {"role": "user", "content": f"What is {i} + {i}?"},
                    {"role": "assistant", "content": f"{2 * i}"},
                ]
            }
            f.write(json.dumps(row) + "\n")
    return path


def main(argv: list[str]) -> None:
    """Run :data:`train` on an existing store and dataset atom (used by the kill test)."""
    from motools import plugins
    from motools.settings import set_store_override
    from motools.store import get_store

    store_root, dataset_id = argv[0], argv[1]
    set_store_override(store_root)
    plugins.register_plugin(
        __import__("motools_openai.plugin", fromlist=["x"]), name="motools_openai.plugin"
    )
    run_workflow(
        train,
        {"prepared_dataset": dataset_id},
        train_config(),
        user="tester",
        store=get_store(store_root),
    )


if __name__ == "__main__":
    main(sys.argv[1:])
