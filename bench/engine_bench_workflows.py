"""Workflows used by bench/bench_engine.py (importable as ``engine_bench_workflows``)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from pydantic import create_model

from motools.workflow import AtomConstructor, Step, StepConfig, Workflow, WorkflowConfig


class NoopConfig(StepConfig):
    n: int = 0
    sleep: float = 0.0


def noop(
    config: NoopConfig, input_atoms: dict[str, Any], temp_workspace: Path
) -> list[AtomConstructor]:
    if config.sleep:
        time.sleep(config.sleep)
    p = temp_workspace / "d.jsonl"
    msgs = [{"role": "user", "content": str(config.n)}, {"role": "assistant", "content": "ok"}]
    p.write_text(json.dumps({"messages": msgs}) + "\n")
    return [AtomConstructor("out", p, "dataset")]


def chain(n_steps: int, name: str = "chain") -> Workflow:
    """``n_steps`` no-op steps, each consuming the previous one's output."""
    steps = []
    for i in range(n_steps):
        inputs = {} if i == 0 else {"out": "dataset"}
        steps.append(Step(f"s{i}", noop, inputs, {"out": "dataset"}, NoopConfig))
    fields: dict[str, Any] = {f"s{i}": (NoopConfig, NoopConfig(n=i)) for i in range(n_steps)}
    cfg = create_model(f"{name.title()}Config", __base__=WorkflowConfig, **fields)
    return Workflow(name, {}, steps, cfg)


def parallel(n_steps: int) -> Workflow:
    """``n_steps`` independent steps (outputs under different names)."""
    steps = []
    for i in range(n_steps):

        def fn(
            config: NoopConfig, input_atoms: dict[str, Any], temp_workspace: Path, _i: int = i
        ) -> list[AtomConstructor]:
            (out,) = noop(config, input_atoms, temp_workspace)
            return [AtomConstructor(f"out{_i}", out.path, "dataset")]

        fn.__qualname__ = f"parallel_step_{i}"
        steps.append(Step(f"p{i}", fn, {}, {f"out{i}": "dataset"}, NoopConfig))
    fields: dict[str, Any] = {
        f"p{i}": (NoopConfig, NoopConfig(n=i, sleep=1.0)) for i in range(n_steps)
    }
    cfg = create_model("ParallelConfig", __base__=WorkflowConfig, **fields)
    return Workflow("parallel", {}, steps, cfg)


four_steps = chain(4, "four_steps")
