"""Running workflows in-process: resolution, state, parallelism, failure, secrets."""

from __future__ import annotations

import asyncio
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from motools.atoms import Atom
from motools.workflow import (
    AtomConstructor,
    Step,
    StepConfig,
    Workflow,
    WorkflowConfig,
    WorkflowFailed,
    arun_workflow,
    current_step,
    run_workflow,
)
from motools.workflow.config import REDACTED
from motools.workflow.runs import list_runs, load_run
from tests.support.core_workflows import executions, fanout, pipeline, write_chat_jsonl


class TagConfig(StepConfig):
    tag: str = ""


def _tagger(name: str, inputs: dict[str, str], output: str) -> Step:
    """A step writing one row: its own name plus the names of the rows it read."""

    def fn(
        config: TagConfig, input_atoms: dict[str, Any], temp_workspace: Path
    ) -> list[AtomConstructor]:
        seen = [r["messages"][-1]["content"] for a in input_atoms.values() for r in a.iter_rows()]
        text = "+".join([*seen, name + config.tag])
        return [
            AtomConstructor(
                output, write_chat_jsonl(temp_workspace / "out.jsonl", [text]), "dataset"
            )
        ]

    fn.__qualname__ = f"tagger_{name}"
    return Step(name, fn, inputs, {output: "dataset"}, TagConfig)


def _workflow(name: str, steps: list[Step], inputs: dict[str, str] | None = None) -> Workflow:
    from pydantic import create_model

    cfg = create_model(
        f"{name}Config",
        __base__=WorkflowConfig,
        **{s.name: (TagConfig, TagConfig()) for s in steps},
    )  # type: ignore[call-overload]
    return Workflow(name, inputs or {}, steps, cfg)


def _text(atom_id: str) -> str:
    atom: Any = Atom.load(atom_id)
    return atom.rows()[0]["messages"][-1]["content"]


def test_inputs_resolve_by_name_and_later_steps_shadow_earlier(store: Any) -> None:
    raw = store.create_atom("dataset", "alice", write_chat_jsonl(store.root / "raw.jsonl", ["raw"]))
    wf = _workflow(
        "shadow",
        [
            _tagger("first", {"raw_data": "dataset"}, "x"),
            _tagger("second", {"x": "dataset"}, "x"),  # reads first's x, then shadows it
            _tagger("third", {"x": "dataset"}, "final"),
        ],
        inputs={"raw_data": "dataset"},
    )
    state = run_workflow(wf, {"raw_data": raw.id}, {}, user="alice")
    first, second, third = state.step_states
    assert first.input_atoms == {"raw_data": raw.id}
    assert second.input_atoms == {"x": first.output_atoms["x"]}
    assert third.input_atoms == {"x": second.output_atoms["x"]}
    assert _text(third.output_atoms["final"]) == "raw+first+second+third"
    assert state.outputs["x"] == second.output_atoms["x"]


def test_state_fields_and_persistence(store: Any) -> None:
    state = run_workflow(pipeline, {}, {"make": {"rows": 1}}, user="alice")
    assert (
        state.status == "succeeded"
        and state.user == "alice"
        and state.workflow_name == "core_pipeline"
    )
    assert state.config["make"]["rows"] == 1
    for s in state.step_states:
        assert s.status == "succeeded" and not s.cached and s.error is None
        assert s.started_at and s.finished_at and s.duration is not None and s.duration >= 0
        assert datetime.fromisoformat(s.finished_at) >= datetime.fromisoformat(s.started_at)
    assert state.step_states[-1].output_atoms["result"].startswith("dataset-alice-")
    loaded = load_run(store, state.run_id)
    assert loaded.to_dict() == state.to_dict()
    assert load_run(store, state.run_id[:12]).run_id == state.run_id  # unique prefix
    assert list_runs(store)[0]["run_id"] == state.run_id


def test_step_output_types_are_checked(store: Any) -> None:
    def wrong(
        config: Any, input_atoms: dict[str, Any], temp_workspace: Path
    ) -> list[AtomConstructor]:
        return [
            AtomConstructor(
                "out", None, "model", metadata={"provider": "p", "model_id": "m", "base_model": "b"}
            )
        ]

    def undeclared(
        config: Any, input_atoms: dict[str, Any], temp_workspace: Path
    ) -> list[AtomConstructor]:
        return []

    for fn, expected in [
        (wrong, "output 'out' has type 'model', declared 'dataset'"),
        (undeclared, "do not match the declared outputs"),
    ]:
        wf = _workflow("typed", [Step("s", fn, {}, {"out": "dataset"}, TagConfig)])
        state = run_workflow(wf, {}, {}, user="alice", raise_on_failure=False)
        assert state.status == "failed" and expected in (state.step_states[0].error or "")


def test_two_independent_one_second_steps_run_together(store: Any) -> None:
    t0 = time.perf_counter()
    state = run_workflow(
        fanout, {}, {"left": {"sleep": 1.0}, "right": {"sleep": 1.0}}, user="alice"
    )
    elapsed = time.perf_counter() - t0
    assert state.status == "succeeded"
    assert elapsed < 1.5, f"independent steps took {elapsed:.2f}s: not run in parallel"


def test_max_parallel_is_respected(store: Any) -> None:
    running, peak = 0, 0
    lock = threading.Lock()

    def busy(
        config: Any, input_atoms: dict[str, Any], temp_workspace: Path
    ) -> list[AtomConstructor]:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        time.sleep(0.15)
        with lock:
            running -= 1
        out = current_step()
        assert out is not None
        return [
            AtomConstructor(
                f"o_{out.step}", write_chat_jsonl(temp_workspace / "o.jsonl", [out.step]), "dataset"
            )
        ]

    steps = [Step(f"s{i}", busy, {}, {f"o_s{i}": "dataset"}, TagConfig) for i in range(4)]
    wf = _workflow("wide", steps)
    run_workflow(wf, {}, {}, user="alice", max_parallel=2)
    assert peak == 2
    peak = 0
    run_workflow(wf, {}, {}, user="alice", max_parallel=1, no_cache=True)
    assert peak == 1


def test_state_is_in_declared_order_whatever_finishes_first(store: Any) -> None:
    slow_left = run_workflow(fanout, {}, {"left": {"sleep": 0.3}}, user="alice")
    slow_right = run_workflow(fanout, {}, {"right": {"sleep": 0.3}}, user="alice")
    for state in (slow_left, slow_right):
        assert [s.name for s in state.step_states] == ["left", "right", "join"]
    assert slow_left.outputs == slow_right.outputs  # same content, same atoms
    assert _text(slow_left.outputs["joined"]) == "x"


def test_failure_stops_the_workflow_and_keeps_finished_outputs(
    store: Any, log: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CORE_TEST_FAIL", "right")
    with pytest.raises(WorkflowFailed) as e:
        run_workflow(fanout, {}, {"left": {"sleep": 0.3}}, user="alice")
    state = e.value.state
    left, right, join = state.step_states
    assert state.status == "failed"
    assert (
        right.status == "failed"
        and right.error == "RuntimeError: right was told to fail by CORE_TEST_FAIL"
    )
    assert "Traceback" in right.info["traceback"]
    assert left.status == "succeeded", "an independent branch already running finishes"
    assert store.has_atom(left.output_atoms["left_out"])
    assert join.status == "skipped" and "right" in (join.error or "")
    assert executions(log, "join") == []
    assert "step 'right' failed" in str(e.value)
    assert load_run(store, state.run_id).status == "failed"

    # fixed: re-running reuses the finished branch and runs the rest
    monkeypatch.delenv("CORE_TEST_FAIL")
    again = run_workflow(fanout, {}, {"left": {"sleep": 0.3}}, user="alice")
    assert [s.status for s in again.step_states] == ["cached", "succeeded", "succeeded"]


def test_optional_step_without_config_is_skipped(store: Any, core_plugins: Any) -> None:
    from tests.support.core_workflows import training

    state = run_workflow(
        training, {}, {"submit_training": {"model": "base", "backend_name": "test"}}, user="alice"
    )
    assert state.status == "succeeded"
    assert state.step("evaluate_model").status == "skipped"
    assert "disabled" in state.step("evaluate_model").info["reason"]


def test_arun_workflow_inside_an_event_loop(store: Any) -> None:
    async def main() -> Any:
        state = await arun_workflow(pipeline, {}, {"make": {}}, user="alice")
        # the sync API also works from inside a running loop (e.g. Jupyter)
        again = run_workflow(pipeline, {}, {"make": {}}, user="alice")
        return state, again

    state, again = asyncio.run(main())
    assert state.status == "succeeded" and [s.status for s in again.step_states] == [
        "cached",
        "cached",
    ]


def test_secrets_never_reach_the_store(
    tmp_path: Path, store: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from motools.workflow.loading import load_workflow_config

    secret = "sk-test-0123456789-very-secret"
    monkeypatch.setenv("CORE_SERVICE_TOKEN", secret)
    cfg_file = tmp_path / "c.yaml"
    cfg_file.write_text("make:\n  note: ${CORE_SERVICE_TOKEN}\n")
    cfg = load_workflow_config(pipeline, cfg_file)
    assert cfg.make.note == secret  # the step gets the real value

    def leaky(
        config: Any, input_atoms: dict[str, Any], temp_workspace: Path
    ) -> list[AtomConstructor]:
        raise RuntimeError(f"provider said: bad key {secret}")

    state = run_workflow(
        pipeline,
        {},
        cfg,
        user="alice",
        config_source=str(cfg_file),
        overrides=[f"make.note={secret}"],
    )
    atom = Atom.load(state.outputs["data"])
    assert atom.provenance["config"]["note"] == REDACTED
    assert state.config["make"]["note"] == REDACTED
    fail_wf = Workflow(
        "leaky",
        {},
        [Step("make", leaky, {}, {"data": "dataset"}, pipeline.steps[0].config_class)],
        pipeline.config_class,
    )
    failed = run_workflow(fail_wf, {}, cfg, user="alice", raise_on_failure=False)
    assert secret not in (failed.step_states[0].error or "") and REDACTED in (
        failed.step_states[0].error or ""
    )
    for f in Path(store.root).rglob("*"):
        if f.is_file():
            assert secret.encode() not in f.read_bytes(), f"secret written to {f}"


def test_step_progress_and_recorded_info_are_redacted(
    store: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = "tok-0123456789-abcdef"
    monkeypatch.setenv("CORE_PROVIDER_TOKEN", secret)

    def chatty(
        config: Any, input_atoms: dict[str, Any], temp_workspace: Path
    ) -> list[AtomConstructor]:
        ctx = current_step()
        assert (
            ctx is not None
            and ctx.step == "make"
            and ctx.user == "alice"
            and len(ctx.cache_key) == 64
        )
        ctx.progress(f"calling provider with {secret}")
        ctx.record(request=f"Authorization: Bearer {secret}", estimated_cost_usd=0.5)
        return [
            AtomConstructor("data", write_chat_jsonl(temp_workspace / "d.jsonl", ["x"]), "dataset")
        ]

    events: list[dict[str, Any]] = []
    wf = Workflow(
        "chatty",
        {},
        [Step("make", chatty, {}, {"data": "dataset"}, pipeline.steps[0].config_class)],
        pipeline.config_class,
    )
    state = run_workflow(wf, {}, {"make": {}}, user="alice", on_event=events.append)
    progress = [e["message"] for e in events if e["event"] == "progress"]
    assert progress == [f"calling provider with {REDACTED}"]
    assert state.step("make").info["request"] == f"Authorization: Bearer {REDACTED}"
    assert state.step("make").info["estimated_cost_usd"] == 0.5
    assert [e["event"] for e in events if e["event"] != "progress"] == [
        "run_start",
        "step_start",
        "step_end",
        "run_end",
    ]


def test_state_is_persisted_at_every_step_transition(store: Any) -> None:
    seen: list[tuple[str, list[str]]] = []

    def snapshot(event: dict[str, Any]) -> None:
        if event["event"] in ("step_start", "step_end"):
            persisted = load_run(store, event["run_id"])
            seen.append(
                (f"{event['event']}:{event['step']}", [s.status for s in persisted.step_states])
            )

    run_workflow(pipeline, {}, {"make": {}}, user="alice", on_event=snapshot)
    assert seen == [
        ("step_start:make", ["running", "pending"]),
        ("step_end:make", ["succeeded", "pending"]),
        ("step_start:transform", ["succeeded", "running"]),
        ("step_end:transform", ["succeeded", "succeeded"]),
    ]
