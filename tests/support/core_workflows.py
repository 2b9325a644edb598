"""Small workflows for the core engine tests (registered by :mod:`tests.support.core_plugin`).

Every step appends its name to the file named by ``$CORE_TEST_LOG`` (when set) so that
tests, including ones running the CLI in other processes, can count executions.  A step
fails when ``$CORE_TEST_FAIL`` names it, so a test can "fix the cause" of a failure by
unsetting the variable and resuming.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from pathlib import Path
from typing import Any

from motools.workflow import AtomConstructor, Step, StepConfig, Workflow, WorkflowConfig
from motools.workflow.eval_steps import EvaluateConfig, evaluate_model_step
from motools.workflow.training_steps import (
    SubmitTrainingConfig,
    WaitForTrainingConfig,
    submit_training_step,
    wait_for_training_step,
)


def log_execution(step: str) -> None:
    """Append ``step`` to ``$CORE_TEST_LOG`` (one line per execution, any process)."""
    path = os.environ.get("CORE_TEST_LOG")
    if path:
        with open(path, "a") as f:
            f.write(step + "\n")


def maybe_fail(step: str) -> None:
    """Raise when ``$CORE_TEST_FAIL`` names ``step`` (comma-separated list allowed)."""
    if step in os.environ.get("CORE_TEST_FAIL", "").split(","):
        raise RuntimeError(f"{step} was told to fail by CORE_TEST_FAIL")


def executions(log: Path, step: str | None = None) -> list[str]:
    """The step names logged to ``log`` (only ``step`` when given)."""
    if not log.exists():
        return []
    lines = log.read_text().split()
    return [x for x in lines if step is None or x == step]


def write_chat_jsonl(path: Path, replies: list[str]) -> Path:
    """Write a chat-format JSONL dataset with one row per reply."""
    with path.open("w") as f:
        for i, reply in enumerate(replies):
            msgs = [
                {"role": "user", "content": f"question {i}"},
                {"role": "assistant", "content": reply},
            ]
            f.write(json.dumps({"messages": msgs}) + "\n")
    return path


# -- pipeline: make -> transform ---------------------------------------------------


class MakeConfig(StepConfig):
    rows: int = 2
    text: str = "hello"
    sleep: float = 0.0
    note: str = ""


class TransformConfig(StepConfig):
    suffix: str = "!"
    sleep: float = 0.0


class PipelineConfig(WorkflowConfig):
    make: MakeConfig
    transform: TransformConfig = TransformConfig()


def make(
    config: MakeConfig, input_atoms: dict[str, Any], temp_workspace: Path
) -> list[AtomConstructor]:
    """Write ``rows`` chat rows whose replies are ``text``; sleeps ``sleep`` seconds first."""
    log_execution("make")
    if config.sleep:
        time.sleep(config.sleep)
    maybe_fail("make")
    path = write_chat_jsonl(
        temp_workspace / "data.jsonl", [f"{config.text} {i}" for i in range(config.rows)]
    )
    return [AtomConstructor("data", path, "dataset", metadata={"num_rows": config.rows})]


def transform(
    config: TransformConfig, input_atoms: dict[str, Any], temp_workspace: Path
) -> list[AtomConstructor]:
    """Append ``suffix`` to every assistant reply of the ``data`` input."""
    log_execution("transform")
    if config.sleep:
        time.sleep(config.sleep)
    maybe_fail("transform")
    replies = [
        row["messages"][-1]["content"] + config.suffix for row in input_atoms["data"].iter_rows()
    ]
    path = write_chat_jsonl(temp_workspace / "result.jsonl", replies)
    return [AtomConstructor("result", path, "dataset")]


make_step = Step("make", make, {}, {"data": "dataset"}, MakeConfig)
transform_step = Step(
    "transform", transform, {"data": "dataset"}, {"result": "dataset"}, TransformConfig
)

pipeline = Workflow(
    name="core_pipeline",
    input_atom_types={},
    steps=[make_step, transform_step],
    config_class=PipelineConfig,
    description="Make a dataset, then transform it (core tests).",
)


# -- fanout: two independent sleeping branches joined at the end ---------------------


class SleepConfig(StepConfig):
    sleep: float = 0.0
    text: str = "x"


class FanoutConfig(WorkflowConfig):
    left: SleepConfig = SleepConfig()
    right: SleepConfig = SleepConfig()
    join: SleepConfig = SleepConfig()


def _one_row(temp_workspace: Path, name: str, text: str) -> Path:
    return write_chat_jsonl(temp_workspace / f"{name}.jsonl", [text])


def left(
    config: SleepConfig, input_atoms: dict[str, Any], temp_workspace: Path
) -> list[AtomConstructor]:
    """A sync step (runs in a worker thread)."""
    log_execution("left")
    time.sleep(config.sleep)
    maybe_fail("left")
    return [AtomConstructor("left_out", _one_row(temp_workspace, "left", config.text), "dataset")]


async def right(
    config: SleepConfig, input_atoms: dict[str, Any], temp_workspace: Path
) -> list[AtomConstructor]:
    """An async step (runs on the event loop)."""
    log_execution("right")
    await asyncio.sleep(config.sleep)
    maybe_fail("right")
    return [AtomConstructor("right_out", _one_row(temp_workspace, "right", config.text), "dataset")]


def join(
    config: SleepConfig, input_atoms: dict[str, Any], temp_workspace: Path
) -> list[AtomConstructor]:
    """Concatenate both branches."""
    log_execution("join")
    maybe_fail("join")
    rows = [
        r["messages"][-1]["content"]
        for k in ("left_out", "right_out")
        for r in input_atoms[k].iter_rows()
    ]
    return [
        AtomConstructor(
            "joined", write_chat_jsonl(temp_workspace / "joined.jsonl", rows), "dataset"
        )
    ]


fanout = Workflow(
    name="core_fanout",
    input_atom_types={},
    steps=[
        Step("left", left, {}, {"left_out": "dataset"}, SleepConfig),
        Step("right", right, {}, {"right_out": "dataset"}, SleepConfig),
        Step(
            "join",
            join,
            {"left_out": "dataset", "right_out": "dataset"},
            {"joined": "dataset"},
            SleepConfig,
        ),
    ],
    config_class=FanoutConfig,
    description="Two independent sleeping steps, then a join (core tests).",
)


# -- training: make -> submit_training -> wait_for_training -> evaluate -----------------


class TrainingConfig(WorkflowConfig):
    make: MakeConfig = MakeConfig()
    submit_training: SubmitTrainingConfig
    wait_for_training: WaitForTrainingConfig = WaitForTrainingConfig(
        poll_interval=0.01, max_poll_interval=0.02
    )
    evaluate_model: EvaluateConfig | None = None


def make_prepared(
    config: MakeConfig, input_atoms: dict[str, Any], temp_workspace: Path
) -> list[AtomConstructor]:
    """:func:`make`, with the output named as the training step expects."""
    return [
        AtomConstructor("prepared_dataset", ac.path, ac.type, ac.metadata)
        for ac in make(config, input_atoms, temp_workspace)
    ]


training = Workflow(
    name="core_training",
    input_atom_types={},
    steps=[
        Step("make", make_prepared, {}, {"prepared_dataset": "dataset"}, MakeConfig),
        submit_training_step(),
        wait_for_training_step(),
        evaluate_model_step(),
    ],
    config_class=TrainingConfig,
    description="Dataset, training with a backend, optional evaluation (core tests).",
)
training.steps[-1].optional = True
