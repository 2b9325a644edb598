"""The step cache: shared hits, verification, controls and plan explanations."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from motools.workflow import AtomConstructor, Step, Workflow, plan_workflow, run_workflow
from motools.workflow.cache import StepCache
from tests.support.core_workflows import (
    MakeConfig,
    PipelineConfig,
    TransformConfig,
    executions,
    make_step,
    pipeline,
    transform,
    transform_step,
    write_chat_jsonl,
)

CFG = {"make": {"rows": 2}}


def _statuses(state: Any) -> list[str]:
    return [s.status for s in state.step_states]


def test_cache_hits_across_workflows_and_users(store: Any, log: Path) -> None:
    first = run_workflow(pipeline, {}, CFG, user="alice")
    other_wf = Workflow("another_workflow", {}, [make_step, transform_step], PipelineConfig)
    second = run_workflow(other_wf, {}, CFG, user="bob")
    assert _statuses(second) == ["cached", "cached"]
    assert all(s.cached for s in second.step_states)
    assert second.outputs == first.outputs  # bob reuses alice's atoms
    assert executions(log) == ["make", "transform"]
    entries = {e.step: e for e in StepCache(store).entries()}
    assert entries["make"].hits == 1 and entries["make"].workflow == "core_pipeline"


def test_only_changed_steps_rerun(store: Any, log: Path) -> None:
    run_workflow(pipeline, {}, CFG, user="alice")
    state = run_workflow(pipeline, {}, {**CFG, "transform": {"suffix": "?"}}, user="alice")
    assert _statuses(state) == ["cached", "succeeded"]
    state = run_workflow(pipeline, {}, {"make": {"rows": 3}}, user="alice")
    assert _statuses(state) == ["succeeded", "succeeded"]
    # different config, same content: the downstream step's key is unchanged
    state = run_workflow(pipeline, {}, {"make": {"rows": 2, "sleep": 0.01}}, user="alice")
    assert _statuses(state) == ["succeeded", "cached"]


def test_hit_is_verified_against_the_store(store: Any, log: Path) -> None:
    first = run_workflow(pipeline, {}, CFG, user="alice")
    data = store.get_atom(first.outputs["data"])
    shutil.rmtree(data.get_data_path())
    state = run_workflow(pipeline, {}, CFG, user="alice")
    assert _statuses(state) == ["succeeded", "cached"]
    assert data.get_data_path().is_dir(), "re-running restored the object"
    assert state.outputs == first.outputs
    with store.index.write() as c:
        c.execute("DELETE FROM atoms WHERE id=?", (first.outputs["result"],))
    assert _statuses(run_workflow(pipeline, {}, CFG, user="alice")) == ["cached", "succeeded"]
    assert executions(log) == ["make", "transform", "make", "transform"]


def test_no_cache_reads_nothing_but_still_writes(store: Any, log: Path) -> None:
    run_workflow(pipeline, {}, CFG, user="alice")
    before = {e.step: e.run_id for e in StepCache(store).entries()}
    state = run_workflow(pipeline, {}, CFG, user="alice", no_cache=True)
    assert _statuses(state) == ["succeeded", "succeeded"]
    after = {e.step: e.run_id for e in StepCache(store).entries()}
    assert after == {"make": state.run_id, "transform": state.run_id} != before
    assert _statuses(run_workflow(pipeline, {}, CFG, user="alice")) == ["cached", "cached"]


def test_refresh_reruns_the_step_and_downstream(store: Any, log: Path) -> None:
    run_workflow(pipeline, {}, CFG, user="alice")
    assert _statuses(run_workflow(pipeline, {}, CFG, user="alice", refresh=["transform"])) == [
        "cached",
        "succeeded",
    ]
    assert _statuses(run_workflow(pipeline, {}, CFG, user="alice", refresh=["make"])) == [
        "succeeded",
        "succeeded",
    ]


def test_same_function_with_other_output_names_does_not_share_entries(store: Any) -> None:
    from pydantic import create_model

    from motools.workflow import WorkflowConfig

    def fn_for(output: str) -> Any:
        def fn(
            config: MakeConfig, input_atoms: dict[str, Any], temp_workspace: Path
        ) -> list[AtomConstructor]:
            return [
                AtomConstructor(
                    output, write_chat_jsonl(temp_workspace / "d.jsonl", [config.text]), "dataset"
                )
            ]

        fn.__qualname__ = "shared_function"  # the same identity for both steps
        return fn

    cfg_cls = create_model(
        "TwinsConfig",
        __base__=WorkflowConfig,
        first=(MakeConfig, MakeConfig()),
        second=(MakeConfig, MakeConfig()),
    )  # type: ignore[call-overload]
    steps = [
        Step("first", fn_for("a"), {}, {"a": "dataset"}, MakeConfig),
        Step("second", fn_for("b"), {}, {"b": "dataset"}, MakeConfig),
    ]
    state = run_workflow(
        Workflow("twins", {}, steps, cfg_cls), {}, {}, user="alice", max_parallel=1
    )
    assert state.step("first").output_atoms.keys() == {"a"}
    assert state.step("second").output_atoms.keys() == {"b"}
    assert [s.status for s in state.step_states] == ["succeeded", "succeeded"]


def test_plan_explains_why_each_step_will_run(store: Any, log: Path) -> None:
    plan = plan_workflow(pipeline, {}, CFG)
    assert [(p["step"], p["status"], p["reason"]) for p in plan] == [
        ("make", "will run", "never run before"),
        ("transform", "will run", "upstream step(s) ['make'] will run"),
    ]
    state = run_workflow(pipeline, {}, CFG, user="alice")
    plan = plan_workflow(pipeline, {}, CFG)
    assert [p["status"] for p in plan] == ["cached", "cached"]
    assert plan[0]["outputs"] == {"data": state.outputs["data"]}

    plan = plan_workflow(pipeline, {}, {**CFG, "transform": {"suffix": "?"}})
    assert plan[1]["reason"] == "config changed: suffix ('!' -> '?')"
    plan = plan_workflow(pipeline, {}, CFG, no_cache=True)
    assert [p["reason"] for p in plan] == ["--no-cache", "upstream step(s) ['make'] will run"]
    plan = plan_workflow(pipeline, {}, CFG, refresh=["transform"])
    assert [p["status"] for p in plan] == ["cached", "will run"] and plan[1][
        "reason"
    ] == "--refresh"

    v2 = Workflow(
        "core_pipeline",
        {},
        [
            make_step,
            Step(
                "transform",
                transform,
                {"data": "dataset"},
                {"result": "dataset"},
                TransformConfig,
                version="2",
            ),
        ],
        PipelineConfig,
    )
    assert plan_workflow(v2, {}, CFG)[1]["reason"] == "step version changed (1 -> 2)"
    assert executions(log) == ["make", "transform"], "planning executes nothing"


def test_plan_names_a_changed_input_atom(store: Any) -> None:
    def count(
        config: Any, input_atoms: dict[str, Any], temp_workspace: Path
    ) -> list[AtomConstructor]:
        n = input_atoms["raw"].count()
        return [
            AtomConstructor(
                "counted", write_chat_jsonl(temp_workspace / "c.jsonl", [str(n)]), "dataset"
            )
        ]

    from pydantic import create_model

    from motools.workflow import WorkflowConfig

    cfg_cls = create_model(
        "CountConfig", __base__=WorkflowConfig, count=(TransformConfig, TransformConfig())
    )  # type: ignore[call-overload]
    wf = Workflow(
        "counter",
        {"raw": "dataset"},
        [Step("count", count, {"raw": "dataset"}, {"counted": "dataset"}, TransformConfig)],
        cfg_cls,
    )
    a = store.create_atom("dataset", "alice", write_chat_jsonl(store.root / "a.jsonl", ["1"]))
    b = store.create_atom("dataset", "alice", write_chat_jsonl(store.root / "a.jsonl", ["1", "2"]))
    run_workflow(wf, {"raw": a.id}, {}, user="alice")
    assert plan_workflow(wf, {"raw": a.id}, {})[0]["status"] == "cached"
    assert plan_workflow(wf, {"raw": b.id}, {})[0]["reason"] == "input atom changed: raw"


def test_a_crashed_holders_lease_is_taken_over(store: Any, log: Path) -> None:
    import subprocess
    import time

    from motools.store.leases import HOST

    key = plan_workflow(pipeline, {}, CFG)[0]["cache_key"]
    dead = subprocess.Popen(["true"])
    dead.wait()
    with store.index.write() as c:
        c.execute(
            "INSERT INTO leases(key, owner, host, pid, expires_at) VALUES(?,?,?,?,?)",
            (key, "crashed-owner", HOST, dead.pid, time.time() + 3600),
        )
    t0 = time.perf_counter()
    state = run_workflow(pipeline, {}, CFG, user="alice")
    assert state.status == "succeeded" and time.perf_counter() - t0 < 5
    assert store.index.query("SELECT COUNT(*) FROM leases")[0][0] == 0


def test_refresh_of_an_unknown_step_is_a_config_error(store: Any) -> None:
    import pytest

    from motools.errors import ConfigError

    with pytest.raises(
        ConfigError, match=r"has no step 'trasnform'; steps: \['make', 'transform'\]"
    ):
        run_workflow(pipeline, {}, CFG, user="alice", refresh=["trasnform"])
    with pytest.raises(ConfigError, match="has no step 'trasnform'"):
        plan_workflow(pipeline, {}, CFG, refresh=["trasnform"])


def test_plan_refuses_an_invalid_user_like_the_run_would(store: Any) -> None:
    import pytest

    from motools.errors import UserError

    with pytest.raises(UserError, match="invalid user name 'Alice'"):
        plan_workflow(pipeline, {}, CFG, user="Alice")
