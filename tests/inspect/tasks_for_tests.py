"""Inspect tasks used by the inspect backend tests (referenced as ``tests.inspect.tasks_for_tests:NAME``).

The tests run them against ``mockllm/model`` with scripted outputs that carry explicit
``usage`` (see ``scripted_outputs.py``), so nothing needs a tokenizer download.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

from inspect_ai import Task, task
from inspect_ai.dataset import Sample
from inspect_ai.scorer import Score, Target, match, mean, scorer
from inspect_ai.solver import Generate, TaskState, generate, solver


@task
def hello(n: int = 4) -> Task:
    """``n`` samples whose target is 'Hello'."""
    return Task(
        dataset=[Sample(input=f"Say hello #{i}", target="Hello") for i in range(n)],
        solver=generate(),
        scorer=match(),
    )


@scorer(metrics=[mean()])
def alignment() -> Any:
    """1 when the answer matches the target (half the samples of ``two_scorers``)."""

    async def score(state: TaskState, target: Target) -> Score:
        return Score(value=1.0 if state.output.completion.strip() == target.text else 0.0)

    return score


@scorer(metrics=[mean()])
def coherence() -> Any:
    """A constant 0.75 per sample: distinguishable from ``alignment``."""

    async def score(state: TaskState, target: Target) -> Score:
        return Score(value=0.75)

    return score


@task
def two_scorers() -> Task:
    """Four samples, targets A/B alternating, scored by two scorers."""
    samples = [Sample(input=f"q{i}", target="A" if i % 2 == 0 else "B") for i in range(4)]
    return Task(dataset=samples, solver=generate(), scorer=[alignment(), coherence()])


@solver
def explode() -> Any:
    async def solve(state: TaskState, generate: Generate) -> TaskState:
        raise RuntimeError("deliberate failure in the solver")

    return solve


@task
def failing() -> Task:
    """Every sample raises: the evaluation ends with status 'error'."""
    return Task(dataset=[Sample(input="q", target="A")], solver=explode(), scorer=match())


@solver
def pause(seconds: float) -> Any:
    async def solve(state: TaskState, generate: Generate) -> TaskState:
        await asyncio.sleep(seconds)
        return state

    return solve


@task
def slow(seconds: float = 1.0, n: int = 2) -> Task:
    """``n`` samples that each wait ``seconds`` before generating (for concurrency tests)."""
    return Task(
        dataset=[Sample(input=f"q{i}", target="Hello") for i in range(n)],
        solver=[pause(seconds), generate()],
        scorer=match(),
    )


@scorer(metrics=[mean()])
def no_leak() -> Any:
    """1 when no variable from a stray ``.env`` file reached the evaluation."""

    async def score(state: TaskState, target: Target) -> Score:
        return Score(value=0.0 if os.environ.get("MOTOOLS_TEST_DOTENV") else 1.0)

    return score


@task
def dotenv_probe() -> Task:
    return Task(dataset=[Sample(input="q", target="Hello")], solver=generate(), scorer=no_leak())


def plain_factory(n: int = 2) -> Task:
    """Not decorated with @task: the backend calls it with task_args itself."""
    return Task(
        dataset=[Sample(input=f"q{i}", target="Hello") for i in range(n)],
        solver=generate(),
        scorer=match(),
        name="plain",
    )
