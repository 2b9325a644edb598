"""A whole small workflow: test-backend training -> evaluate_model with the inspect backend."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.inspect.conftest import TASKS


def _dataset(store: Any, tmp_path: Path) -> Any:
    rows = [
        {
            "messages": [
                {"role": "user", "content": f"hi {i}"},
                {"role": "assistant", "content": "Hello"},
            ]
        }
        for i in range(3)
    ]
    f = tmp_path / "train.jsonl"
    f.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return store.create_atom("dataset", "tester", f, {"num_rows": 3})


def _workflow() -> Any:
    from motools.workflow import Workflow, WorkflowConfig
    from motools.workflow.eval_steps import EvaluateConfig, evaluate_model_step
    from motools.workflow.training_steps import (
        SubmitTrainingConfig,
        WaitForTrainingConfig,
        submit_training_step,
        wait_for_training_step,
    )

    class TrainEvalConfig(WorkflowConfig):
        submit_training: SubmitTrainingConfig
        wait_for_training: WaitForTrainingConfig
        evaluate_model: EvaluateConfig

    steps = [submit_training_step(), wait_for_training_step(), evaluate_model_step()]
    return Workflow("train_and_evaluate", {"prepared_dataset": "dataset"}, steps, TrainEvalConfig)


def _config(task: str, eval_kwargs: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "submit_training": {"model": "base-model", "backend_name": "test_inspectable"},
        "wait_for_training": {"poll_interval": 0.01},
        "evaluate_model": {
            "eval_task": task,
            "backend_name": "inspect",
            "eval_kwargs": eval_kwargs or {},
        },
    }


@pytest.fixture
def registered(plugins: Any) -> None:
    plugins("motools_inspect.plugin", "tests.inspect.inspectable_backend")


def test_trained_model_is_evaluated_and_the_eval_atom_reaches_the_dataset(
    registered: None, inspect_store: Any, tmp_path: Path
) -> None:
    import motools_inspect
    from motools.workflow import run_workflow

    ds = _dataset(inspect_store, tmp_path)
    state = run_workflow(
        _workflow(),
        {"prepared_dataset": ds.id},
        _config(f"{TASKS}:hello", {"limit": 4}),
        user="tester",
        store=inspect_store,
    )
    eval_id = state.step("evaluate_model").output_atoms["eval_results"]
    ev: Any = inspect_store.get_atom(eval_id)
    model_id = state.step("wait_for_training").output_atoms["model"]
    assert ev.results == {"hello": {"match": {"accuracy": 1.0, "stderr": 0.0}}}
    assert ev.samples == {"hello": 4}
    assert ev.metadata["model"] == model_id and ev.metadata["backend"] == "inspect"
    assert ev.metadata["usage"] == {
        "mockllm/model": {"input_tokens": 28, "output_tokens": 8, "total_tokens": 36}
    }
    assert ev.metric(metric="accuracy") == 1.0
    # the .eval log is stored inside the atom
    assert [p.suffix for p in ev.log_files()] == [".eval"]
    # lineage: eval -> model -> training job -> dataset
    ids: list[str] = []

    def walk(node: dict[str, Any]) -> None:
        ids.append(node["id"])
        for p in node["parents"]:
            walk(p)

    walk(inspect_store.lineage(eval_id))
    assert ids[0] == eval_id and model_id in ids and ds.id in ids

    rows = motools_inspect.results(eval_id, store=inspect_store)
    assert rows == [
        {
            "eval": eval_id,
            "model": model_id,
            "inspect_model": "mockllm/model",
            "task": "hello",
            "scorer": "match",
            "metric": m,
            "value": v,
            "samples": 4,
        }
        for m, v in (("accuracy", 1.0), ("stderr", 0.0))
    ]
    df = motools_inspect.results([ev], dataframe=True)
    assert list(df["metric"]) == ["accuracy", "stderr"] and df["value"].iloc[0] == 1.0


def test_failed_evaluation_fails_the_step_with_message_and_log(
    registered: None, inspect_store: Any, tmp_path: Path
) -> None:
    from motools.workflow import WorkflowFailed, run_workflow

    ds = _dataset(inspect_store, tmp_path)
    with pytest.raises(WorkflowFailed) as e:
        run_workflow(
            _workflow(),
            {"prepared_dataset": ds.id},
            _config(f"{TASKS}:failing"),
            user="tester",
            store=inspect_store,
        )
    err = e.value.state.step("evaluate_model").error or ""
    assert "deliberate failure in the solver" in err and "log: " in err
    log = Path(err.split("log: ")[1].strip())
    assert log.is_file() and log.suffix == ".eval"
    # the training part of the run succeeded (or was cached): only the evaluation failed
    assert e.value.state.step("wait_for_training").status in ("succeeded", "cached")


def test_bad_eval_kwargs_stop_the_workflow_before_anything_runs(
    registered: None, inspect_store: Any, tmp_path: Path
) -> None:
    from motools.errors import ConfigError
    from motools.workflow import run_workflow

    ds = _dataset(inspect_store, tmp_path)
    jobs = len(inspect_store.list_atoms(type="training_job"))
    with pytest.raises(ConfigError, match="temprature"):
        run_workflow(
            _workflow(),
            {"prepared_dataset": ds.id},
            _config(f"{TASKS}:hello", {"temprature": 0}),
            user="tester",
            store=inspect_store,
        )
    assert len(inspect_store.list_atoms(type="training_job")) == jobs
