"""Planning a sweep of the zoo's workflow prices its training before anything is paid."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from motools.sweep import load_sweep_file, plan_sweep
from tests.support import test_backend

SWEEP = """
workflow: train_and_evaluate
config:
  prepare_dataset:
    dataset_loader: mozoo.datasets.hello_world:get_hello_world_dataset
    loader_kwargs: {sample_size: 20}
  submit_training:
    model: base
    backend_name: test
  evaluate_model:
    eval_task: mozoo/hello_world
sweep:
  grid:
    submit_training.hyperparameters.n_epochs: [1, 3]
"""


def test_sweep_plan_prepares_the_dataset_to_estimate_training_cost(
    store: Any, plugins: Any, tmp_path: Path
) -> None:
    plugins("tests.support.test_backend", "motools_inspect.plugin", "mozoo.plugin")
    path = tmp_path / "sweep.yaml"
    path.write_text(SWEEP)
    submitted = len(test_backend.SUBMITTED)

    blind = plan_sweep(load_sweep_file(path), store=store, user="alice")
    assert blind["totals"]["cost_unknown"] and blind["totals"]["steps_prepared"] == 0

    priced = plan_sweep(load_sweep_file(path), store=store, user="alice", prepare=True)
    totals = priced["totals"]
    assert totals["steps_prepared"] == 1, "both points share one dataset, prepared once"
    assert not totals["cost_unknown"]
    # the test backend charges $0.001 per row and epoch: 20 rows x (1 + 3) epochs
    assert totals["estimated_cost_usd"] == 0.08
    assert len(test_backend.SUBMITTED) == submitted, "planning never submits"
    # the prepared dataset is a cache hit for the run
    assert [s["status"] for s in priced["points"][0]["steps"]][0] == "cached"
    # one run record for the one dataset prepared; planning again adds none
    from motools.workflow.runs import list_runs

    assert len(list_runs(store)) == 1
    again = plan_sweep(load_sweep_file(path), store=store, user="alice", prepare=True)
    assert again["totals"]["steps_prepared"] == 0 and len(list_runs(store)) == 1
