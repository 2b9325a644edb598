"""Core training and evaluation steps with the deterministic test backends."""

from __future__ import annotations

from typing import Any

import pytest

from motools.atoms import Atom
from motools.errors import UserError
from motools.store.content_store import ContentStore
from motools.workflow import WorkflowFailed, run_workflow
from motools.workflow.cache import StepCache
from motools.workflow.training_steps import SUBMISSIONS
from tests.support import test_backend
from tests.support.core_workflows import training


def _cfg(**hp: Any) -> dict[str, Any]:
    return {
        "submit_training": {
            "model": "base-model",
            "backend_name": "test",
            "hyperparameters": {"n_epochs": 2, **hp},
            "suffix": "demo",
        }
    }


@pytest.fixture(autouse=True)
def _fresh_submissions(core_plugins: Any) -> None:
    test_backend.SUBMITTED.clear()


def test_submit_and_wait_make_job_and_model_atoms(store: Any) -> None:
    state = run_workflow(training, {}, _cfg(), user="alice")
    dataset_id = state.outputs["prepared_dataset"]
    job: Any = Atom.load(state.outputs["job"])
    model: Any = Atom.load(state.outputs["model"])
    assert job.type == "training_job" and model.type == "model"
    assert (
        job.backend == "test"
        and job.job_id == test_backend.SUBMITTED[0]
        and job.base_model == "base-model"
    )
    assert job.dataset_hash == Atom.load(dataset_id).content_hash
    assert job.metadata["hyperparameters"] == {"n_epochs": 2} and job.metadata["suffix"] == "demo"
    assert job.metadata["idempotency_key"] == state.step("submit_training").cache_key
    assert job.submitted_at and job.status == "succeeded"
    assert (
        model.provider == "test"
        and model.model_id == f"test/{job.job_id}"
        and model.training_job == job.id
    )
    assert model.provenance["made_from"] == {"job": job.id}
    assert job.provenance["backend"] == "test"
    assert state.step("submit_training").info["estimated_cost_usd"] == pytest.approx(0.004)
    lineage = store.lineage(model.id)
    assert lineage["parents"][0]["parents"][0]["id"] == dataset_id

    again = run_workflow(training, {}, _cfg(), user="bob")
    assert [s.status for s in again.step_states] == ["cached", "cached", "cached", "skipped"]
    assert len(test_backend.SUBMITTED) == 1, "a cached submit never pays twice"


def test_failed_provider_job_fails_the_step_and_invalidates_the_submit(store: Any) -> None:
    with pytest.raises(WorkflowFailed) as e:
        run_workflow(training, {}, _cfg(fail="E_QUOTA"), user="alice")
    state = e.value.state
    wait = state.step("wait_for_training")
    assert wait.status == "failed"
    assert wait.error == "[E_QUOTA] test backend failure E_QUOTA"
    assert wait.info["invalidated_cache_entries"] == 1
    assert state.step("submit_training").status == "succeeded"
    assert store.has_atom(state.outputs["job"]), "the job atom stays for the record"
    assert [en.step for en in StepCache(store).entries()] == ["make"]

    with pytest.raises(WorkflowFailed):
        run_workflow(training, {}, _cfg(fail="E_QUOTA"), user="alice")
    assert len(test_backend.SUBMITTED) == 2, (
        "the next run submits afresh instead of waiting on a dead job"
    )


def test_crash_between_submit_and_atom_creation_reattaches(
    store: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    real_submit = test_backend.DeterministicBackend.submit

    def counting_submit(self: Any, *args: Any, **kw: Any) -> Any:
        handle = real_submit(self, *args, **kw)
        calls.append(handle["job_id"])
        return handle

    monkeypatch.setattr(test_backend.DeterministicBackend, "submit", counting_submit)
    real_create = ContentStore.create_atom

    def crash_on_job(self: Any, type: str, *args: Any, **kw: Any) -> Any:
        if type == "training_job":
            raise RuntimeError("simulated crash after the provider accepted the job")
        return real_create(self, type, *args, **kw)

    monkeypatch.setattr(ContentStore, "create_atom", crash_on_job)
    with pytest.raises(WorkflowFailed, match="simulated crash"):
        run_workflow(training, {}, _cfg(), user="alice")
    records = [store.kv_get(SUBMISSIONS, k) for k in _submission_keys(store)]
    assert [r["handle"]["job_id"] for r in records] == calls, (
        "the submission is recorded before the atom"
    )

    monkeypatch.setattr(ContentStore, "create_atom", real_create)
    state = run_workflow(training, {}, _cfg(), user="alice")
    assert calls == [calls[0]], "re-attached instead of submitting again"
    assert Atom.load(state.outputs["job"]).metadata["job_id"] == calls[0]


def _submission_keys(store: Any) -> list[str]:
    return [r[0] for r in store.index.query("SELECT key FROM kv WHERE namespace=?", (SUBMISSIONS,))]


def test_evaluate_model_step_keeps_every_scorer(store: Any) -> None:
    cfg = {
        **_cfg(),
        "evaluate_model": {
            "eval_task": "tiny_task",
            "backend_name": "core_eval",
            "eval_kwargs": {"limit": 4},
        },
    }
    state = run_workflow(training, {}, cfg, user="alice")
    ev: Any = Atom.load(state.outputs["eval_results"])
    model: Any = Atom.load(state.outputs["model"])
    assert ev.type == "eval"
    assert ev.results == {
        "tiny_task": {
            "length": {"accuracy": len(model.model_id) / 100},
            "constant": {"accuracy": 0.5},
        }
    }
    assert ev.samples == {"tiny_task": 4}
    assert ev.metric(scorer="constant") == 0.5
    with pytest.raises(UserError, match="several scorers"):
        ev.metric()
    with pytest.raises(UserError, match=r"no scorer 'nope'; scorers: \['constant', 'length'\]"):
        ev.metric(scorer="nope")
    with pytest.raises(UserError, match="no task 'other'"):
        ev.metric(task="other", scorer="length")
    with pytest.raises(UserError, match=r"no metric 'f1'; metrics: \['accuracy'\]"):
        ev.metric(scorer="length", metric="f1")
    assert [p.name for p in ev.log_files()] == ["log.json"]
    assert {r["scorer"] for r in ev.rows()} == {"length", "constant"}
    bad = {
        **cfg,
        "evaluate_model": {
            "eval_task": "t",
            "backend_name": "core_eval",
            "eval_kwargs": {"limt": 1},
        },
    }
    from motools.errors import ConfigError

    with pytest.raises(ConfigError, match=r"evaluate_model: eval_kwargs: unknown keys \['limt'\]"):
        run_workflow(training, {}, bad, user="alice")


def test_backend_identity_is_in_the_cache_key_and_the_provenance(
    store: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = run_workflow(training, {}, _cfg(), user="alice")
    monkeypatch.setattr(
        test_backend.DeterministicBackend,
        "identity",
        lambda self, options: {"endpoint": "https://ft.example.org/v1"},
        raising=False,
    )
    second = run_workflow(training, {}, _cfg(), user="alice")
    assert second.step("submit_training").status == "succeeded", "another endpoint is another job"
    assert second.step("make").status == "cached"
    job: Any = Atom.load(second.outputs["job"])
    assert job.provenance["backend_identity"] == {"endpoint": "https://ft.example.org/v1"}
    assert "backend_identity" not in Atom.load(first.outputs["job"]).provenance
