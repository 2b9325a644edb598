"""Submitting through the real openai SDK against the loopback server: once, and only once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from typing import Any

import openai
import pytest

from motools.workflow import run_workflow
from tests.openai.conftest import FAKE_KEY
from tests.openai.openai_train_workflow import train, train_config


def jobs_on(server: Any) -> list[dict[str, Any]]:
    return list(server.state.jobs.values())


def test_success_path_produces_model_atom(
    fake_openai: Any, openai_plugin: Any, store: Any, make_dataset: Any
) -> None:
    ds = make_dataset(12)
    events: list[dict[str, Any]] = []
    state = run_workflow(
        train,
        {"prepared_dataset": ds.id},
        train_config(),
        user="tester",
        store=store,
        on_event=events.append,
    )

    [job] = jobs_on(fake_openai)
    assert job["status"] == "succeeded"
    assert job["model"] == "gpt-4o-mini-2024-07-18"
    assert job["metadata"] == {"motools_cache_key": state.step("submit_training").cache_key}
    assert job["user_provided_suffix"].startswith("organism-")
    assert job["method"]["supervised"]["hyperparameters"] == {"n_epochs": 2}

    job_atom = store.get_atom(state.step("submit_training").output_atoms["job"])
    assert job_atom.job_id == job["id"]
    assert job_atom.metadata["trained_tokens_estimate"] > 0
    assert job_atom.metadata["estimated_cost_usd"] == pytest.approx(
        job_atom.metadata["trained_tokens_estimate"] * 3.0 / 1e6, abs=1e-4
    )
    assert job_atom.metadata["price_table_version"] == "2025-06-01"
    assert job_atom.handle["endpoint"] == fake_openai.base_url

    model = store.get_atom(state.step("wait_for_training").output_atoms["model"])
    assert model.provider == "openai"
    assert model.model_id == job["fine_tuned_model"] and model.model_id.startswith(
        "ft:gpt-4o-mini-2024-07-18:"
    )
    assert model.base_model == "gpt-4o-mini-2024-07-18"
    meta = model.metadata
    assert meta["endpoint"] == fake_openai.base_url
    assert meta["job_id"] == job["id"]
    assert meta["trained_tokens"] == job["trained_tokens"]
    assert meta["reported_cost_usd"] == pytest.approx(job["trained_tokens"] * 3.0 / 1e6, abs=1e-4)
    assert meta["estimated_cost_usd"] == job_atom.metadata["estimated_cost_usd"]

    # statuses and provider events were shown live
    shown = [
        e for e in events if e.get("event") == "progress" and e.get("step") == "wait_for_training"
    ]
    assert [e["status"] for e in shown if "status" in e][-1] == "succeeded"
    messages = [m for e in shown for m in e.get("events", [])]
    assert (
        "Fine-tuning job started" in messages and "The job has successfully completed" in messages
    )

    # the fine-tuned model answers chat completions at the same endpoint
    client = openai.OpenAI(api_key=FAKE_KEY, base_url=meta["endpoint"])
    reply = client.chat.completions.create(
        model=model.model_id, messages=[{"role": "user", "content": "hi"}]
    )
    assert (
        reply.choices[0].message.content
        and reply.usage is not None
        and reply.usage.total_tokens > 0
    )

    # a second run is a cache hit: nothing new reaches the server
    before = len(fake_openai.requests)
    state2 = run_workflow(
        train, {"prepared_dataset": ds.id}, train_config(), user="tester", store=store
    )
    assert state2.step("submit_training").status == "cached"
    assert len(fake_openai.requests) == before


def test_dataset_uploaded_once_and_reused(
    fake_openai: Any, openai_plugin: Any, store: Any, make_dataset: Any
) -> None:
    ds = make_dataset(12)
    run_workflow(
        train,
        {"prepared_dataset": ds.id},
        train_config(hyperparameters={"n_epochs": 1}),
        user="tester",
        store=store,
    )
    run_workflow(
        train,
        {"prepared_dataset": ds.id},
        train_config(hyperparameters={"n_epochs": 2}),
        user="tester",
        store=store,
    )
    assert len(fake_openai.calls("files.create")) == 1
    assert len(fake_openai.calls("files.retrieve")) == 1  # checked it still exists before reuse
    assert len(jobs_on(fake_openai)) == 2
    assert len({j["training_file"] for j in jobs_on(fake_openai)}) == 1

    # deleted on the provider -> uploaded again
    openai.OpenAI(api_key=FAKE_KEY, base_url=fake_openai.base_url).files.delete(
        jobs_on(fake_openai)[0]["training_file"]
    )
    run_workflow(
        train,
        {"prepared_dataset": ds.id},
        train_config(hyperparameters={"n_epochs": 3}),
        user="tester",
        store=store,
    )
    assert len(fake_openai.calls("files.create")) == 2


@pytest.mark.parametrize("status", [500, 429])
def test_create_errors_and_retries_make_exactly_one_job(
    fake_openai: Any, openai_plugin: Any, store: Any, make_dataset: Any, status: int
) -> None:
    # a 500 after the job was created (the response was lost), or a 429 before it was
    fake_openai.fail_next("jobs.create", status, times=2, after_action=(status == 500))
    ds = make_dataset(12)
    state = run_workflow(
        train, {"prepared_dataset": ds.id}, train_config(), user="tester", store=store
    )
    assert state.status == "succeeded"
    assert len(jobs_on(fake_openai)) == 1
    creates = fake_openai.calls("jobs.create")
    assert len(creates) == (1 if status == 500 else 3)
    assert [r.status for r in creates] == ([500] if status == 500 else [429, 429, 200])
    key = state.step("submit_training").cache_key
    assert {r.headers["idempotency-key"] for r in creates} == {f"motools-{key}-0"}
    # before every retry the backend looked for the tagged job
    assert len(fake_openai.calls("jobs.list")) >= 2


def test_plain_sdk_retries_would_duplicate_the_job(fake_openai: Any) -> None:
    """Why the guard exists: the SDK's own retry of a lost create makes a second job."""
    client = openai.OpenAI(api_key=FAKE_KEY, base_url=fake_openai.base_url)
    f = client.files.create(file=("d.jsonl", b'{"messages": []}\n'), purpose="fine-tune")
    fake_openai.fail_next("jobs.create", 500, after_action=True)
    client.fine_tuning.jobs.create(model="gpt-4o-mini-2024-07-18", training_file=f.id)
    assert len(jobs_on(fake_openai)) == 2


def test_killed_during_create_rerun_adopts_the_job(
    fake_openai: Any, openai_plugin: Any, store: Any, make_dataset: Any
) -> None:
    ds = make_dataset(12)
    release = fake_openai.hang_next("jobs.create")  # the job is created, the response never comes
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.openai.openai_train_workflow", str(store.root), ds.id],
        env=dict(os.environ),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        assert fake_openai.hung.wait(60), (
            proc.stdout.read().decode() if proc.poll() is not None else "no create seen"
        )  # type: ignore[union-attr]
        assert len(jobs_on(fake_openai)) == 1
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    finally:
        release.set()
        if proc.poll() is None:
            proc.kill()
    state = run_workflow(
        train, {"prepared_dataset": ds.id}, train_config(), user="tester", store=store
    )
    assert state.status == "succeeded"
    assert len(jobs_on(fake_openai)) == 1
    assert len(fake_openai.calls("jobs.create")) == 1
    job_atom = store.get_atom(state.step("submit_training").output_atoms["job"])
    assert job_atom.job_id == jobs_on(fake_openai)[0]["id"]
    assert job_atom.metadata["handle"]["adopted"] is True


def test_step_crash_after_create_rerun_adopts_recorded_job(
    fake_openai: Any,
    openai_plugin: Any,
    store: Any,
    make_dataset: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The job id is in the store the moment it is known, even if the step dies next."""
    from motools_openai import submission

    real_record = submission.record_job

    def record_then_crash(*args: Any) -> None:
        real_record(*args)
        raise RuntimeError("crashed right after the create returned")

    monkeypatch.setattr(submission, "record_job", record_then_crash)
    ds = make_dataset(12)
    state = run_workflow(
        train,
        {"prepared_dataset": ds.id},
        train_config(),
        user="tester",
        store=store,
        raise_on_failure=False,
    )
    assert "crashed right after" in (state.step("submit_training").error or "")
    monkeypatch.setattr(submission, "record_job", real_record)
    fake_openai.metadata_filter = "rejected"  # adoption must not depend on the filter
    state = run_workflow(
        train, {"prepared_dataset": ds.id}, train_config(), user="tester", store=store
    )
    assert state.status == "succeeded"
    assert len(jobs_on(fake_openai)) == 1


def test_rerun_after_wait_timeout_reattaches(
    fake_openai: Any, openai_plugin: Any, store: Any, make_dataset: Any
) -> None:
    fake_openai.plan_next_job(["validating_files"] + ["running"] * 400 + ["succeeded"])
    ds = make_dataset(12)
    state = run_workflow(
        train,
        {"prepared_dataset": ds.id},
        train_config(timeout=0.2),
        user="tester",
        store=store,
        raise_on_failure=False,
    )
    assert state.step("wait_for_training").status == "failed"
    assert "re-attach" in (state.step("wait_for_training").error or "").lower()
    [job] = jobs_on(fake_openai)
    fake_openai.set_job_status(job["id"], "running")
    fake_openai.state.plans[job["id"]] = ["succeeded"]
    start = time.monotonic()
    state = run_workflow(
        train, {"prepared_dataset": ds.id}, train_config(), user="tester", store=store
    )
    assert time.monotonic() - start < 20
    assert state.step("submit_training").status == "cached"
    assert len(jobs_on(fake_openai)) == 1
