"""Running sweeps through the real engine with the ``test`` training backend.

Shared training runs once, identical steps in flight are joined, a failed point never
stops the others, re-running resumes from the cache, and records persist in the store.
"""

from __future__ import annotations

import asyncio
import io
import json

import pytest

from motools.errors import ConfigError
from motools.store.leases import try_acquire
from motools.sweep import SweepDefinition, SweepResult, arun_sweep, plan_sweep, run_sweep
from motools.sweep.progress import SweepProgress
from motools.sweep.records import list_sweeps
from tests.support import test_backend
from tests.sweep import sweep_support
from tests.sweep.sweep_support import accuracy_for, base_config, sweep_test_workflow

EPOCHS = "submit_training.hyperparameters.n_epochs"
LIMIT = "evaluate_model.eval_kwargs.limit"
FAIL = "submit_training.hyperparameters.fail"


def test_sweep_runs_every_point_and_shares_training(sweep_env):
    events: list[dict] = []
    res = run_sweep(
        sweep_test_workflow,
        base_config(),
        {EPOCHS: [1, 2], LIMIT: [1, 2]},
        replicates=2,
        user="alice",
        max_parallel=8,
        on_event=events.append,
    )
    assert res.ok and res.status == "succeeded" and len(res) == 8
    # 2 epochs x 2 dataset seeds = 4 trainings; the eval limit does not retrain.
    assert len(test_backend.SUBMITTED) == 4
    assert len(sweep_support.EVALUATED) == 8
    assert len(sweep_support.PREPARED) == 2
    by_key = {}
    for p in res.points:
        assert p.status == "succeeded" and p.run_id and p.state is not None and not p.cached
        assert set(p.outputs) == {"prepared_dataset", "job", "model", "eval_results"}
        by_key.setdefault((p.params[EPOCHS], p.replicate), set()).add(p.outputs["model"])
    assert all(len(models) == 1 for models in by_key.values())  # one model per training config
    assert len({m for ms in by_key.values() for m in ms}) == 4
    # Points sharing a training job are not started until the job has finished.
    order = [(e["event"], e.get("point"), e.get("step"), e.get("status")) for e in events]
    for first, second in [(0, 2), (1, 3), (4, 6), (5, 7)]:
        done = order.index(("step_end", first, "wait_for_training", "succeeded"))
        assert order.index(("point_start", second, None, None)) > done
    kinds = [e["event"] for e in events]
    assert kinds[0] == "sweep_start" and kinds[-1] == "sweep_end"


def test_identical_steps_in_flight_are_joined_across_sweeps(sweep_env):
    """Two sweeps running at once (as two users' terminals would) share one training job."""

    async def both() -> list[SweepResult]:
        a = arun_sweep(sweep_test_workflow, base_config(), {LIMIT: [1, 2]}, user="alice")
        b = arun_sweep(sweep_test_workflow, base_config(), {LIMIT: [3, 4]}, user="alice")
        return list(await asyncio.gather(a, b))

    results = asyncio.run(both())
    assert all(r.ok for r in results)
    assert len(test_backend.SUBMITTED) == 1
    assert len(sweep_support.PREPARED) == 1
    models = {p.outputs["model"] for r in results for p in r.points}
    assert len(models) == 1
    joined = [
        s for r in results for p in r.points for s in p.state.step_states if s.info.get("joined")
    ]
    assert joined, "the second sweep should have waited on the first one's lease and joined"


def test_a_failed_point_never_stops_the_others(sweep_env):
    grid = {FAIL: ["", "quota_exceeded"], LIMIT: [1, 2]}
    res = run_sweep(sweep_test_workflow, base_config(), grid, user="alice", max_parallel=4)
    assert not res.ok and res.status == "failed"
    statuses = {(p.params[FAIL], p.params[LIMIT]): p.status for p in res.points}
    assert statuses[("", 1)] == statuses[("", 2)] == "succeeded"
    failed = [p for p in res.points if p.status == "failed"]
    skipped = [p for p in res.points if p.status == "skipped"]
    assert len(failed) == 1 and len(skipped) == 1
    assert "quota_exceeded" in failed[0].error and "wait_for_training" in failed[0].error
    assert f"shares step 'wait_for_training' with point {failed[0].index}" in skipped[0].error
    assert skipped[0].run_id is None
    # The failed training was submitted once, not once per point sharing it.
    assert len(test_backend.SUBMITTED) == 2
    assert res.counts()["succeeded"] == 2 and len(res.failed) == 2
    rec = SweepResult.load(res.sweep_id)
    assert [p.status for p in rec.points] == [p.status for p in res.points]
    assert rec.status == "failed"


def test_rerun_resumes_finished_points_from_the_cache(sweep_env, monkeypatch):
    monkeypatch.setenv("SWEEP_TEST_FAIL_LIMITS", "2")
    grid = {EPOCHS: [1, 2], LIMIT: [1, 2]}
    first = run_sweep(sweep_test_workflow, base_config(), grid, user="alice")
    assert [p.status for p in first.points] == ["succeeded", "failed", "succeeded", "failed"]
    assert "told to fail" in first.points[1].error
    assert len(test_backend.SUBMITTED) == 2
    monkeypatch.delenv("SWEEP_TEST_FAIL_LIMITS")  # the cause is fixed
    second = run_sweep(sweep_test_workflow, base_config(), grid, user="alice")
    assert second.ok and second.sweep_id == first.sweep_id
    assert [p.cached for p in second.points] == [True, False, True, False]
    # The failed points re-ran only their evaluation: training came from the cache.
    assert len(test_backend.SUBMITTED) == 2
    steps = {s.name: s.status for s in second.points[1].state.step_states}
    assert steps == {
        "prepare_dataset": "cached",
        "submit_training": "cached",
        "wait_for_training": "cached",
        "evaluate_model": "succeeded",
    }
    rec = SweepResult.load(first.sweep_id[:6])
    assert rec.status == "succeeded"
    assert [len(p.runs) for p in rec.points] == [2, 2, 2, 2]
    assert [p.run_id for p in rec.points] == [p.run_id for p in second.points]
    listed = list_sweeps(sweep_env)
    assert [s["sweep_id"] for s in listed] == [first.sweep_id]
    assert listed[0]["counts"] == {"succeeded": 4}


def test_plan_shows_cached_shared_in_flight_and_cost(sweep_env):
    defn = SweepDefinition(sweep_test_workflow, base_config(), {EPOCHS: [1, 2], LIMIT: [1, 2]})
    plan = plan_sweep(defn, user="alice")
    assert plan["sweep_id"] == defn.sweep_id("alice")
    assert [p["status"] for p in plan["points"]] == ["will run"] * 4
    # Point 1 only adds its evaluation; its dataset and training are point 0's.
    p1 = {s["step"]: s for s in plan["points"][1]["steps"]}
    assert p1["submit_training"]["shared_with"] == 0 and "shared_with" not in p1["evaluate_model"]
    assert plan["points"][1]["new_steps"] == 1
    assert plan["totals"]["steps_to_run"] == 4 + 1 + 3 + 1  # point 2 shares only the dataset
    assert plan["totals"]["cost_unknown"]  # the dataset is not prepared yet
    assert test_backend.SUBMITTED == []  # planning runs nothing

    run_sweep(sweep_test_workflow, base_config(), {EPOCHS: [1], LIMIT: [1]}, user="alice")
    plan = plan_sweep(defn, user="alice")
    assert [p["status"] for p in plan["points"]] == ["cached", "will run", "will run", "will run"]
    p2 = {s["step"]: s for s in plan["points"][2]["steps"]}
    assert p2["prepare_dataset"]["status"] == "cached"
    assert "n_epochs (1 -> 2)" in p2["submit_training"]["reason"]
    # 4 rows x 2 epochs x $0.001 (the test backend's price)
    assert plan["points"][2]["estimated_cost_usd"] == 0.008
    assert plan["totals"]["estimated_cost_usd"] == 0.008 and not plan["totals"]["cost_unknown"]

    # Another process computing point 1's evaluation right now: "in flight".
    key = {s["step"]: s for s in plan["points"][1]["steps"]}["evaluate_model"]["cache_key"]
    assert try_acquire(sweep_env, key, "someone-else")
    sweep_env.index.conn().execute("UPDATE leases SET pid=1 WHERE key=?", (key,))
    plan = plan_sweep(defn, user="alice")
    assert plan["points"][1]["status"] == "in flight"
    assert plan["totals"]["in_flight"] == 1


def test_progress_lines_when_not_a_terminal(sweep_env):
    out = io.StringIO()
    display = SweepProgress(stream=out)
    res = run_sweep(
        sweep_test_workflow,
        base_config(),
        {EPOCHS: [1, 2]},
        replicates=2,
        user="alice",
        on_event=display,
    )
    text = out.getvalue()
    assert f"sweep {res.sweep_id}: 4 point(s) of workflow sweep_test" in text
    assert "n_epochs=1, replicate=1): succeeded" in text
    assert "[4/4] point" in text and "4/4 done (4 ok, 0 cached, 0 failed)" in text
    assert f"sweep {res.sweep_id} succeeded" in text
    assert "ETA" in text


def test_progress_live_panel_renders(sweep_env):
    out = io.StringIO()
    display = SweepProgress(stream=out, live=True)
    res = run_sweep(
        sweep_test_workflow, base_config(), {FAIL: ["", "boom"]}, user="alice", on_event=display
    )
    display.close()
    text = out.getvalue()
    assert not res.ok
    assert "boom" in text  # failures are printed above the live panel
    assert f"sweep {res.sweep_id} failed: 2/2 done (1 ok, 0 cached, 1 failed)" in text


def test_accuracy_follows_the_fake_backend(sweep_env):
    res = run_sweep(sweep_test_workflow, base_config(), {EPOCHS: [3]}, replicates=3, user="alice")
    store = sweep_env
    accs = [
        store.get_atom(p.outputs["eval_results"]).metric(metric="accuracy", scorer="match")
        for p in res.points
    ]
    assert accs == [accuracy_for(3, seed) for seed in (0, 1, 2)]


def test_grid_over_input_atoms(sweep_env, tmp_path):
    """``input_atoms.NAME`` sweeps a workflow input (e.g. several datasets or models)."""
    from motools.sweep import collate
    from motools.workflow import AtomConstructor, Step, StepConfig, Workflow, WorkflowConfig

    class CountConfig(StepConfig):
        scale: int = 1

    class CountWorkflowConfig(WorkflowConfig):
        count: CountConfig = CountConfig()

    def count(config, inputs, ws):
        n = inputs["data"].count() * config.scale
        return [
            AtomConstructor(
                "eval_results", None, "eval", {"results": {"rows": {"count": {"n": n}}}}
            )
        ]

    wf = Workflow(
        "count_rows",
        {"data": "dataset"},
        [Step("count", count, {"data": "dataset"}, {"eval_results": "eval"}, CountConfig)],
        CountWorkflowConfig,
    )
    ids = []
    for n in (2, 5):
        f = tmp_path / f"d{n}.jsonl"
        f.write_text(
            "".join(
                json.dumps({"messages": [{"role": "user", "content": str(i)}]}) + "\n"
                for i in range(n)
            )
        )
        ids.append(sweep_env.create_atom("dataset", "alice", f, {"num_rows": n}).id)
    res = run_sweep(wf, {}, {"input_atoms.data": ids, "count.scale": [1, 10]}, user="alice")
    assert res.ok
    df = collate(res)
    assert list(df.columns[:4]) == ["point", "replicate", "data", "scale"]
    assert list(df.value) == [2, 20, 5, 50] and list(df.data) == [ids[0], ids[0], ids[1], ids[1]]
    bad = SweepDefinition(wf, {}, {"input_atoms.model": ids})

    with pytest.raises(
        ConfigError,
        match=r"sweep.grid.input_atoms.model: workflow 'count_rows' has inputs \['data'\]",
    ):
        plan_sweep(bad, user="alice")
