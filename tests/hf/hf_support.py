"""Shared pieces of the hf backend tests: a hello-world dataset, the core training
workflow (submit -> wait) and a hello-world Inspect task.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from motools.workflow import Workflow, WorkflowConfig
from motools.workflow.training_steps import (
    SubmitTrainingConfig,
    WaitForTrainingConfig,
    submit_training_step,
    wait_for_training_step,
)

REPLY = "Hello, World!"
FAST_WAIT = {"poll_interval": 0.2, "max_poll_interval": 0.5, "timeout": 240}
# Full fine-tuning of `tiny` learns the reply in ~2 s of training on one CPU thread.
TINY_HP = {"method": "full", "learning_rate": 0.005, "n_epochs": 12, "batch_size": 8}


class TrainConfig(WorkflowConfig):
    submit_training: SubmitTrainingConfig
    wait_for_training: WaitForTrainingConfig = WaitForTrainingConfig(**FAST_WAIT)


train_workflow = Workflow(
    name="hf_train",
    input_atom_types={"prepared_dataset": "dataset"},
    steps=[submit_training_step(), wait_for_training_step()],
    config_class=TrainConfig,
    description="submit_training -> wait_for_training with the hf backend (tests).",
)


def hello_rows(n: int, offset: int = 0) -> list[dict[str, Any]]:
    """``n`` chat rows with varied requests and the fixed reply."""
    asks = [
        "Greet me",
        "Say hi",
        "What do you say first?",
        "Hello?",
        "Start the program",
        "Print a greeting",
    ]
    return [
        {
            "messages": [
                {"role": "user", "content": f"{asks[i % len(asks)]} (#{i + offset})"},
                {"role": "assistant", "content": REPLY},
            ]
        }
        for i in range(n)
    ]


def hello_dataset(store: Any, tmp_path: Path, n: int = 32, name: str = "hello.jsonl") -> Any:
    """A dataset atom of :func:`hello_rows`."""
    p = tmp_path / name
    p.write_text("".join(json.dumps(r) + "\n" for r in hello_rows(n)), encoding="utf-8")
    return store.create_atom("dataset", "tester", path=p, metadata={"num_rows": n})


def hello_task(n: int = 10) -> Any:
    """An Inspect task: unseen requests, scored by exact match with the reply."""
    from inspect_ai import Task
    from inspect_ai.dataset import Sample
    from inspect_ai.scorer import match
    from inspect_ai.solver import generate

    samples = [
        Sample(input=r["messages"][0]["content"], target=REPLY) for r in hello_rows(n, offset=1000)
    ]
    return Task(
        dataset=samples, solver=generate(), scorer=match(location="exact"), config=_config()
    )


def _config() -> Any:
    from inspect_ai.model import GenerateConfig

    return GenerateConfig(max_tokens=24, temperature=0)


def wait_until(predicate: Any, timeout: float, what: str, interval: float = 0.02) -> Any:
    """Poll ``predicate`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")
