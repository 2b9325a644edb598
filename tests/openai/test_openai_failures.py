"""Failures through the real SDK: failed, paused and cancelled jobs, bad data, keys and provider errors."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

from motools.backends import get_training_backend
from motools.errors import ConfigError
from motools.workflow import plan_workflow, run_workflow
from tests.openai.conftest import FAKE_KEY
from tests.openai.openai_train_workflow import train, train_config


def run(store: Any, ds: Any, **cfg: Any) -> Any:
    return run_workflow(
        train,
        {"prepared_dataset": ds.id},
        train_config(**cfg),
        user="tester",
        store=store,
        raise_on_failure=False,
    )


def test_failed_job_fails_step_with_provider_error_and_rerun_submits_afresh(
    fake_openai: Any, openai_plugin: Any, store: Any, make_dataset: Any
) -> None:
    fake_openai.plan_next_job(
        ["queued", "running", "failed"],
        error={"code": "server_error", "message": "The GPU caught fire", "param": None},
    )
    ds = make_dataset(12)
    state = run(store, ds)
    wait = state.step("wait_for_training")
    assert wait.status == "failed"
    assert "[server_error] The GPU caught fire" in wait.error
    assert wait.info.get("invalidated_cache_entries", 0) >= 1

    state = run(store, ds)
    assert state.status == "succeeded"
    assert state.step("submit_training").status == "succeeded"  # not a cache hit
    jobs = list(fake_openai.state.jobs.values())
    assert [j["status"] for j in jobs] == ["failed", "succeeded"]
    assert jobs[0]["metadata"] == jobs[1]["metadata"]  # same inputs, same tag
    # a fresh idempotency key, so an endpoint that honours it does not answer with the failed job
    keys = [r.headers["idempotency-key"] for r in fake_openai.calls("jobs.create")]
    assert keys[0] != keys[1] and keys[1].endswith("-1")


def test_data_failure_is_not_resubmitted_without_a_change(
    fake_openai: Any, openai_plugin: Any, store: Any, make_dataset: Any
) -> None:
    fake_openai.plan_next_job(
        ["validating_files", "failed"],
        error={
            "code": "invalid_training_file",
            "message": "Example 3 is too long",
            "param": "training_file",
        },
    )
    ds = make_dataset(12)
    assert (
        "[invalid_training_file] Example 3 is too long"
        in run(store, ds).step("wait_for_training").error
    )

    again = run(store, ds)
    err = again.step("submit_training").error
    assert "failed because of its data" in err and "options.attempt" in err
    assert len(fake_openai.state.jobs) == 1

    changed = run(store, ds, options={"attempt": 2})
    assert changed.status == "succeeded"
    assert len(fake_openai.state.jobs) == 2


def test_paused_then_resumed_job_is_waited_for(
    fake_openai: Any, openai_plugin: Any, store: Any, make_dataset: Any
) -> None:
    fake_openai.plan_next_job(
        ["validating_files", "queued", "running", "paused", "paused", "running", "succeeded"]
    )
    events: list[dict[str, Any]] = []
    ds = make_dataset(12)
    state = run_workflow(
        train,
        {"prepared_dataset": ds.id},
        train_config(),
        user="tester",
        store=store,
        on_event=events.append,
    )
    assert state.status == "succeeded"
    statuses = [
        e["status"] for e in events if e.get("step") == "wait_for_training" and "status" in e
    ]
    deduped = [s for i, s in enumerate(statuses) if i == 0 or statuses[i - 1] != s]
    assert deduped[-4:] == ["running", "paused", "running", "succeeded"]
    assert len(fake_openai.state.jobs) == 1


def test_cancelled_job_fails_the_step(
    fake_openai: Any, openai_plugin: Any, store: Any, make_dataset: Any
) -> None:
    fake_openai.plan_next_job(["queued"] + ["running"] * 50)
    ds = make_dataset(12)
    backend = get_training_backend("openai")
    job_id = None

    def on_event(e: dict[str, Any]) -> None:
        nonlocal job_id
        if e.get("status") == "running" and job_id is None:
            [job] = fake_openai.state.jobs.values()
            job_id = job["id"]
            backend.cancel({"job_id": job_id, "endpoint": fake_openai.base_url}, store)

    state = run_workflow(
        train,
        {"prepared_dataset": ds.id},
        train_config(),
        user="tester",
        store=store,
        on_event=on_event,
        raise_on_failure=False,
    )
    assert fake_openai.state.jobs[job_id]["status"] == "cancelled"
    assert "[cancelled]" in state.step("wait_for_training").error


def test_unknown_status_is_still_going(
    fake_openai: Any, openai_plugin: Any, store: Any, make_dataset: Any
) -> None:
    fake_openai.plan_next_job(["queued", "compiling_kernels", "succeeded"])
    events: list[dict[str, Any]] = []
    state = run_workflow(
        train,
        {"prepared_dataset": make_dataset(12).id},
        train_config(),
        user="tester",
        store=store,
        on_event=events.append,
    )
    assert state.status == "succeeded"
    assert "compiling_kernels" in [e.get("status") for e in events]


def test_transient_errors_while_polling_are_survived(
    fake_openai: Any, openai_plugin: Any, store: Any, make_dataset: Any
) -> None:
    ds = make_dataset(12)
    fake_openai.fail_next("jobs.retrieve", 503, times=4)  # more than the SDK's own 2 retries
    state = run(store, ds)
    assert state.status == "succeeded"
    assert [r.status for r in fake_openai.calls("jobs.retrieve")][:4] == [503] * 4


@pytest.mark.parametrize(
    "rows, expected",
    [
        (
            [
                {
                    "messages": [
                        {"role": "user", "content": "hi"},
                        {"role": "assistant", "content": "yo"},
                    ]
                }
            ]
            * 9,
            "has 9 row(s); chat fine-tuning needs at least 10",
        ),
        (["not json"], "row 1: not valid JSON"),
        ([{"messages": [{"role": "robot", "content": "x"}]}], "row 1: messages[0].role is 'robot'"),
        ([{"messages": [{"role": "user", "content": "hi"}]}], "row 1: no assistant message"),
        (
            [
                {
                    "messages": [
                        {"role": "user", "content": "  "},
                        {"role": "assistant", "content": "a"},
                    ]
                }
            ],
            "row 1: messages[0] (user): 'content' is empty",
        ),
    ],
)
def test_bad_rows_are_named_before_any_upload(
    fake_openai: Any,
    openai_plugin: Any,
    store: Any,
    make_dataset: Any,
    rows: list[Any],
    expected: str,
) -> None:
    good = {"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]}
    all_rows = (
        rows if len(rows) == 9 else [good, good] + [""] + rows + [good] * 10
    )  # bad row is row 3 (line 4)
    ds = make_dataset(rows=all_rows)
    err = run(store, ds).step("submit_training").error
    if len(rows) != 9:
        expected = expected.replace("row 1", "row 3 (line 4)")
    assert expected in err, err
    assert "nothing was uploaded" in err and ds.id in err
    assert fake_openai.requests == []


def test_dry_run_shows_estimate_without_network(
    fake_openai: Any, openai_plugin: Any, store: Any, make_dataset: Any
) -> None:
    ds = make_dataset(20)
    plan = plan_workflow(
        train,
        {"prepared_dataset": ds.id},
        train_config(hyperparameters={"n_epochs": 3}),
        store=store,
    )
    est = plan[0]["estimate"]
    assert est["trained_tokens_estimate"] > 0 and est["n_epochs_estimate"] == 3
    assert est["estimated_cost_usd"] == pytest.approx(
        est["trained_tokens_estimate"] * 3.0 / 1e6, abs=1e-4
    )
    assert fake_openai.requests == []
    bad = make_dataset(rows=[{"messages": [{"role": "user", "content": "x"}]}] * 10)
    with pytest.raises(Exception, match="row 1: no assistant message"):
        plan_workflow(train, {"prepared_dataset": bad.id}, train_config(), store=store)


def test_missing_key_is_a_clear_error_before_any_request(
    fake_openai: Any,
    openai_plugin: Any,
    store: Any,
    make_dataset: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from motools.errors import ConfigError

    monkeypatch.delenv("OPENAI_API_KEY")
    dataset = make_dataset(12)
    # Refused while the config is validated: before any step runs, let alone a request.
    with pytest.raises(ConfigError) as excinfo:
        run(store, dataset)
    err = str(excinfo.value)
    assert "environment variable OPENAI_API_KEY is not set" in err and "Nothing was uploaded" in err
    assert fake_openai.requests == []
    with pytest.raises(ConfigError, match="MY_ENDPOINT_KEY is not set"):
        run(store, dataset, options={"api_key_env": "MY_ENDPOINT_KEY"})
    assert fake_openai.requests == []


def test_named_key_variable_is_used(
    fake_openai: Any,
    openai_plugin: Any,
    store: Any,
    make_dataset: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY")
    monkeypatch.setenv("MY_ENDPOINT_KEY", FAKE_KEY)
    state = run(
        store,
        make_dataset(12),
        options={"api_key_env": "MY_ENDPOINT_KEY", "base_url": fake_openai.base_url},
    )
    assert state.status == "succeeded"
    model = store.get_atom(state.step("wait_for_training").output_atoms["model"])
    assert model.metadata["api_key_env"] == "MY_ENDPOINT_KEY"


def test_provider_rejection_is_a_user_error_with_code(
    fake_openai: Any, openai_plugin: Any, store: Any, make_dataset: Any
) -> None:
    fake_openai.fail_next(
        "jobs.create",
        400,
        code="model_not_available",
        message="Model gpt-nope is not available for fine-tuning",
    )
    err = run(store, make_dataset(12)).step("submit_training").error
    assert "HTTP 400 model_not_available: Model gpt-nope is not available for fine-tuning" in err
    assert fake_openai.state.jobs == {}


def test_unknown_hyperparameter_is_a_config_error_before_running(
    fake_openai: Any, openai_plugin: Any, store: Any, make_dataset: Any
) -> None:
    with pytest.raises(ConfigError, match=r"unknown key 'n_epoch' \(did you mean 'n_epochs'\?\)"):
        run_workflow(
            train,
            {"prepared_dataset": make_dataset(12).id},
            train_config(hyperparameters={"n_epoch": 2}),
            user="tester",
            store=store,
        )
    assert fake_openai.requests == []


def _files_containing(root: Path, needle: bytes) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and needle in p.read_bytes()]


def test_api_key_never_stored_or_logged(
    fake_openai: Any,
    openai_plugin: Any,
    store: Any,
    make_dataset: Any,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    events: list[dict[str, Any]] = []
    ds = make_dataset(12)
    state = run_workflow(
        train,
        {"prepared_dataset": ds.id},
        train_config(),
        user="tester",
        store=store,
        on_event=events.append,
    )
    assert state.status == "succeeded"
    fake_openai.plan_next_job(
        ["queued", "failed"], error={"code": "server_error", "message": "boom", "param": None}
    )
    run(store, ds, hyperparameters={"n_epochs": 5})
    # a wrong key, which the endpoint quotes back in its 401 message
    wrong = "sk-wrong-9f8e7d6c5b4a39281706"
    monkeypatch.setenv("OPENAI_API_KEY", wrong)
    failed = run(store, ds, hyperparameters={"n_epochs": 7})
    err = failed.step("submit_training").error
    assert (
        "HTTP 401 invalid_api_key" in err
        and wrong not in err
        and "Incorrect API key provided: ***" in err
    )
    assert "traceback" in failed.step("submit_training").info

    for key in (FAKE_KEY, wrong):
        assert _files_containing(store.root, key.encode()) == []
        assert key not in caplog.text
        assert key not in repr(events)


def test_key_quoted_in_a_job_error_is_redacted_whatever_its_variable_is_called(
    fake_openai: Any,
    openai_plugin: Any,
    store: Any,
    make_dataset: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The variable's name does not look secret, so only the backend knows it holds a key.
    monkeypatch.delenv("OPENAI_API_KEY")
    monkeypatch.setenv("CORP_OAI", FAKE_KEY)
    fake_openai.plan_next_job(
        ["running", "failed"],
        error={"code": "server_error", "message": f"internal error for {FAKE_KEY}", "param": None},
    )
    state = run(store, make_dataset(12), options={"api_key_env": "CORP_OAI"})
    err = state.step("wait_for_training").error
    assert "internal error for ***" in err and FAKE_KEY not in err
    assert _files_containing(store.root, FAKE_KEY.encode()) == []


def test_options_that_do_not_change_training_never_pay_for_a_new_job(
    fake_openai: Any, openai_plugin: Any, store: Any, make_dataset: Any
) -> None:
    ds = make_dataset(12)
    assert run(store, ds).status == "succeeded"
    again = run(store, ds, options={"price_per_1m_training_tokens": 3.0})
    assert again.step("submit_training").status == "cached"
    assert len(fake_openai.calls("jobs.create")) == 1
    # a deliberate new attempt is a new job
    third = run(store, ds, options={"attempt": 2})
    assert third.step("submit_training").status == "succeeded"
    assert len(fake_openai.calls("jobs.create")) == 2
