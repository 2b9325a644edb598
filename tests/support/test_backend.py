"""A deterministic in-process training backend for engine tests (not a product backend).

Registered as training backend ``test``.  Jobs live in the store's kv table; each
``status`` call advances the job one state: queued -> running -> succeeded.
Hyperparameter ``fail: "code"`` makes the job fail with that code; ``steps: n`` sets how
many polls it runs for.  ``SUBMITTED`` counts real submissions (per process) so tests
can assert a job was never submitted twice.
"""

from __future__ import annotations

import uuid
from typing import Any

from motools.backends import JobStatus, ModelInfo, TrainingBackend
from motools.errors import ConfigError
from motools.hookspecs import hookimpl
from motools.specs import TrainingBackendSpec

SUBMITTED: list[str] = []
NS = "test_backend_jobs"
ALLOWED = {"n_epochs", "fail", "steps", "learning_rate"}


class DeterministicBackend(TrainingBackend):
    name = "test"

    def validate_hyperparameters(self, hyperparameters: dict[str, Any]) -> dict[str, Any]:
        unknown = set(hyperparameters) - ALLOWED
        if unknown:
            raise ConfigError(
                f"hyperparameters: unknown keys {sorted(unknown)}; allowed: {sorted(ALLOWED)}"
            )
        return dict(hyperparameters)

    def estimate(
        self, dataset: Any, model: str, hyperparameters: dict[str, Any], options: dict[str, Any]
    ) -> dict[str, Any]:
        n = dataset.count() * int(hyperparameters.get("n_epochs", 1))
        return {"trained_tokens_estimate": n * 10, "estimated_cost_usd": round(n * 0.001, 6)}

    def submit(
        self,
        dataset: Any,
        model: str,
        hyperparameters: dict[str, Any],
        suffix: str | None,
        idempotency_key: str,
        options: dict[str, Any],
        store: Any,
    ) -> dict[str, Any]:
        existing = store.kv_get(NS, "key:" + idempotency_key)
        if existing and store.kv_get(NS, existing)["status"] not in ("failed", "cancelled"):
            return {"job_id": existing}
        job_id = "testjob-" + uuid.uuid4().hex[:10]
        SUBMITTED.append(job_id)
        store.kv_set(
            NS,
            job_id,
            {
                "status": "queued",
                "polls": 0,
                "hp": hyperparameters,
                "model": model,
                "dataset": dataset.id,
                "steps": int(hyperparameters.get("steps", 2)),
            },
        )
        store.kv_set(NS, "key:" + idempotency_key, job_id)
        return {"job_id": job_id}

    def status(self, handle: dict[str, Any], store: Any) -> JobStatus:
        job = store.kv_get(NS, handle["job_id"])
        if job["status"] in ("succeeded", "failed", "cancelled"):
            return JobStatus(
                job["status"], error_code=job.get("code"), error_message=job.get("message")
            )
        job["polls"] += 1
        if job["polls"] >= job["steps"]:
            fail = job["hp"].get("fail")
            if fail:
                job.update(status="failed", code=str(fail), message=f"test backend failure {fail}")
            else:
                job["status"] = "succeeded"
        else:
            job["status"] = "running"
        store.kv_set(NS, handle["job_id"], job)
        return JobStatus(
            job["status"],
            trained_tokens=10 * job["polls"],
            error_code=job.get("code"),
            error_message=job.get("message"),
        )

    def cancel(self, handle: dict[str, Any], store: Any) -> None:
        job = store.kv_get(NS, handle["job_id"])
        job["status"] = "cancelled"
        store.kv_set(NS, handle["job_id"], job)

    def result(self, handle: dict[str, Any], store: Any) -> ModelInfo:
        job = store.kv_get(NS, handle["job_id"])
        return ModelInfo(
            provider="test",
            model_id=f"test/{handle['job_id']}",
            base_model=job["model"],
            metadata={"job_id": handle["job_id"]},
        )

    def base_model_info(self, model: str, options: dict[str, Any], store: Any) -> ModelInfo:
        return ModelInfo(provider="test", model_id=f"test/{model}", base_model=model)


@hookimpl
def register_training_backends(register: Any) -> None:
    register(
        TrainingBackendSpec(
            name="test",
            impl="tests.support.test_backend:DeterministicBackend",
            description="deterministic test backend",
        )
    )
