"""The ``tiny`` preset end to end: core workflow steps -> background training process ->
model atom -> real Inspect evaluation through the ``hflocal`` provider.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from motools.workflow import run_workflow
from tests.hf.hf_support import TINY_HP, TrainConfig, hello_dataset, hello_task, train_workflow


def _accuracy(log: Any) -> float:
    assert log.status == "success", f"eval failed: {log.error}"
    return float(log.results.scores[0].metrics["accuracy"].value)


def test_tiny_learns_hello_world_through_workflow_and_inspect(
    hf: Any, store: Any, tmp_path: Path
) -> None:
    from inspect_ai import eval as inspect_eval

    ds = hello_dataset(store, tmp_path)
    config = TrainConfig.from_dict(
        {"submit_training": {"model": "tiny", "backend_name": "hf", "hyperparameters": TINY_HP}}
    )
    state = run_workflow(
        train_workflow, {"prepared_dataset": ds.id}, config, user="tester", store=store
    )

    job = store.get_atom(state.step("submit_training").output_atoms["job"])
    model = store.get_atom(state.step("wait_for_training").output_atoms["model"])
    assert model.provider == "hf" and model.base_model == "tiny"
    assert model.metadata["inspect_model"] == "hflocal/{weights_dir}"
    assert (model.weights_dir / "config.json").is_file() and (
        model.weights_dir / "tokenizer.json"
    ).is_file()
    assert model.metadata["trained_tokens"] > 0 and model.metadata["method"] == "full"

    # Re-submitting with the same idempotency key adopts the finished job (no new process).
    jobdir = store.root / "hf-jobs" / job.job_id
    log_size = (jobdir / "train.log").stat().st_size
    again = hf.submit(ds, "tiny", TINY_HP, None, job.metadata["idempotency_key"], {}, store)
    assert again == job.handle
    assert (jobdir / "train.log").stat().st_size == log_size

    # A second run of the workflow is a full cache hit.
    rerun = run_workflow(
        train_workflow, {"prepared_dataset": ds.id}, config, user="tester", store=store
    )
    assert [s.status for s in rerun.step_states] == ["cached", "cached"]
    assert rerun.step("wait_for_training").output_atoms["model"] == model.id

    base = hf.base_model_info("tiny", {}, store)
    trained = model.metadata["inspect_model"].replace("{weights_dir}", str(model.weights_dir))
    logs = inspect_eval(
        hello_task(),
        model=[base.metadata["inspect_model"], trained],
        log_dir=str(tmp_path / "logs"),
        display="none",
    )
    before, after = (_accuracy(log) for log in logs)
    assert before <= 0.1, f"untrained tiny already says the reply (accuracy {before})"
    assert after >= 0.9, f"trained tiny accuracy {after}"
    assert sum(s.output.completion == "Hello, World!" for s in logs[1].samples) >= 9
    assert all(s.output.usage.output_tokens > 0 for s in logs[1].samples)
