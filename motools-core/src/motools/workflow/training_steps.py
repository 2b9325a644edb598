"""Core training steps: ``submit_training`` and ``wait_for_training``.

``submit_training`` is idempotent: the step's cache key is the backend's idempotency
key, and the submitted handle is recorded in the store the moment it is known, so a
crash after submission re-attaches instead of paying twice.  ``wait_for_training``
polls with backoff and jitter; a failed or cancelled job fails the step with the
provider's error and invalidates the cached submit, so the next run submits afresh.
"""

from __future__ import annotations

import asyncio
import random
import time
from pathlib import Path
from typing import Any, ClassVar

from pydantic import Field

from motools.atoms.base import Atom
from motools.backends import TERMINAL_FAILED, TERMINAL_OK, get_training_backend
from motools.errors import ConfigError, MotoolsError, StepFailed, TrainingFailed
from motools.store.content_store import utcnow
from motools.workflow.config import StepConfig, redact
from motools.workflow.context import current_step
from motools.workflow.core import AtomConstructor, Step

SUBMISSIONS = "training_submissions"


class SubmitTrainingConfig(StepConfig):
    """Config of ``submit_training``: base model, hyperparameters, suffix, backend."""

    backend_registry: ClassVar[str] = "training"

    model: str = Field(
        description="base model: a provider model name, a local path or a built-in name"
    )
    hyperparameters: dict[str, Any] = Field(default_factory=dict)
    suffix: str | None = None
    backend_name: str = "hf"
    options: dict[str, Any] = Field(
        default_factory=dict, description="backend options, e.g. base_url"
    )

    def validate_for_run(self) -> None:
        backend = get_training_backend(self.backend_name)
        try:
            backend.validate_model(self.model)
            backend.validate_hyperparameters(self.hyperparameters)
            backend.validate_options(self.options)
        except ConfigError as e:
            raise ConfigError(f"{e}") from None

    def estimate(self, inputs: dict[str, Atom]) -> dict[str, Any]:
        backend = get_training_backend(self.backend_name)
        ds = _dataset_input(inputs)
        return backend.estimate(
            ds, self.model, backend.validate_hyperparameters(self.hyperparameters), self.options
        )


class WaitForTrainingConfig(StepConfig):
    """Config of ``wait_for_training``: poll interval (seconds, grows with backoff), timeout."""

    poll_interval: float = Field(default=10.0, gt=0)
    max_poll_interval: float = Field(default=60.0, gt=0)
    timeout: float | None = Field(default=None, gt=0, description="seconds; None waits forever")


def _dataset_input(inputs: dict[str, Atom]) -> Any:
    ds = [a for a in inputs.values() if a.type == "dataset"]
    if len(ds) != 1:
        raise StepFailed(
            "submit_training", f"expected exactly one dataset input, got {list(inputs)}"
        )
    return ds[0]


def _submit_identity(cfg: SubmitTrainingConfig) -> dict[str, Any]:
    """The backend's identity for these options (endpoint, ...) and the base model's
    content fingerprint (a local model directory edited in place is another model)."""
    backend = get_training_backend(cfg.backend_name)
    ident = dict(backend.identity(cfg.options))
    fingerprint = backend.model_identity(cfg.model)
    if fingerprint:
        ident["model_fingerprint"] = fingerprint
    return ident


def _submit_cache_config(cfg: SubmitTrainingConfig) -> dict[str, Any]:
    """Everything but ``options``: the options that matter are in the backend identity."""
    backend = get_training_backend(cfg.backend_name)
    return {
        "model": cfg.model,
        "hyperparameters": backend.validate_hyperparameters(cfg.hyperparameters),
        "suffix": cfg.suffix,
        "backend_name": cfg.backend_name,
    }


async def submit_training(
    config: SubmitTrainingConfig, input_atoms: dict[str, Atom], temp_workspace: Path
) -> list[AtomConstructor]:
    """Submit (or adopt) a training job for the dataset input; output: a ``training_job`` atom."""
    ctx = current_step()
    assert ctx is not None, "submit_training must run inside a workflow"
    store = ctx.store
    backend = get_training_backend(config.backend_name)
    dataset = _dataset_input(input_atoms)
    hp = backend.validate_hyperparameters(config.hyperparameters)
    estimate = await asyncio.to_thread(backend.estimate, dataset, config.model, hp, config.options)
    ctx.record(
        **{
            k: v
            for k, v in estimate.items()
            if k in ("trained_tokens_estimate", "estimated_cost_usd", "trained_tokens")
        }
    )
    key = ctx.cache_key
    previous: dict[str, Any] | None = store.kv_get(SUBMISSIONS, key)
    handle: dict[str, Any] | None = None
    if previous:
        try:
            st = await asyncio.to_thread(backend.status, previous["handle"], store)
            if st.status not in TERMINAL_FAILED:
                handle = previous["handle"]
                ctx.progress(f"re-attached to job {handle.get('job_id')} ({st.status})")
        except MotoolsError:
            raise
        except Exception:
            handle = previous["handle"]
    if handle is None:
        ctx.progress(f"submitting to {config.backend_name}: {config.model}")
        handle = await asyncio.to_thread(
            backend.submit, dataset, config.model, hp, config.suffix, key, config.options, store
        )
        store.kv_set(
            SUBMISSIONS,
            key,
            {"handle": redact(handle), "backend": config.backend_name, "at": utcnow()},
        )
        ctx.progress(f"submitted job {handle.get('job_id')}")
    meta = {
        "backend": config.backend_name,
        "job_id": handle["job_id"],
        "base_model": config.model,
        "dataset_hash": dataset.content_hash,
        "dataset": dataset.id,
        "hyperparameters": hp,
        "suffix": config.suffix,
        "submitted_at": (previous or {}).get("at") or utcnow(),
        "status": "submitted",
        "handle": redact(handle),
        "idempotency_key": key,
        **{k: v for k, v in estimate.items()},
    }
    return [
        AtomConstructor(
            name=ctx.output_name("training_job", "job"),
            path=None,
            type="training_job",
            metadata=meta,
        )
    ]


async def wait_for_training(
    config: WaitForTrainingConfig, input_atoms: dict[str, Atom], temp_workspace: Path
) -> list[AtomConstructor]:
    """Poll the job until it finishes; output: a ``model`` atom."""
    ctx = current_step()
    assert ctx is not None, "wait_for_training must run inside a workflow"
    jobs = [a for a in input_atoms.values() if a.type == "training_job"]
    if len(jobs) != 1:
        raise StepFailed(
            "wait_for_training", f"expected one training_job input, got {list(input_atoms)}"
        )
    job: Any = jobs[0]
    backend = get_training_backend(job.backend)
    handle = job.handle
    store = ctx.store
    start = time.monotonic()
    interval = config.poll_interval
    seen_events = 0
    last_status = None
    transient = 0
    while True:
        try:
            st = await asyncio.to_thread(backend.status, handle, store)
            transient = 0
        except MotoolsError:
            raise
        except Exception as e:  # network hiccup: keep waiting, the job keeps running
            transient += 1
            ctx.progress(f"status check failed ({type(e).__name__}: {e}); retrying")
            st = None
        if st is not None:
            new_events = st.events[seen_events:]
            seen_events = len(st.events)
            if st.status != last_status or new_events or st.progress:
                msg = f"{st.status}"
                if st.trained_tokens:
                    msg += f", {st.trained_tokens} trained tokens"
                for k in ("step", "total_steps", "loss", "eta_s"):
                    if k in st.progress:
                        msg += f", {k}={st.progress[k]}"
                ctx.progress(msg, status=st.status, events=new_events)
                if st.status != last_status:
                    store.kv_set("job_status", job.id, {"status": st.status, "at": utcnow()})
                last_status = st.status
            if st.status in TERMINAL_OK:
                break
            if st.status in TERMINAL_FAILED:
                raise TrainingFailed(
                    st.error_message or f"job {job.job_id} {st.status}",
                    code=st.error_code or st.status,
                    job_atom_id=job.id,
                )
        if config.timeout is not None and time.monotonic() - start > config.timeout:
            raise StepFailed(
                "wait_for_training",
                f"timed out after {config.timeout:.0f}s; job {job.job_id} is still {last_status}. "
                "Re-run the workflow to re-attach to the same job.",
            )
        await asyncio.sleep(interval * random.uniform(0.8, 1.2))
        interval = min(interval * 1.5, max(config.max_poll_interval, config.poll_interval))
    info = await asyncio.to_thread(backend.result, handle, store)
    meta = {
        "provider": info.provider,
        "model_id": info.model_id,
        "base_model": info.base_model,
        "training_job": job.id,
        **redact(info.metadata),
    }
    if st is not None and st.trained_tokens:
        meta.setdefault("trained_tokens", st.trained_tokens)
    path = None
    if info.weights_path is not None:
        path = temp_workspace / "model"
        path.mkdir()
        import shutil

        shutil.copytree(info.weights_path, path / "weights")
    return [
        AtomConstructor(
            name=ctx.output_name("model", "model"), path=path, type="model", metadata=meta
        )
    ]


def submit_training_step(
    name: str = "submit_training", dataset_input: str = "prepared_dataset", output: str = "job"
) -> Step:
    """A ready :class:`Step` running :func:`submit_training`."""
    return Step(
        name,
        submit_training,
        {dataset_input: "dataset"},
        {output: "training_job"},
        SubmitTrainingConfig,
        version="1",
        cache_identity=_submit_identity,
        cache_config=_submit_cache_config,
    )


def wait_for_training_step(
    name: str = "wait_for_training", job_input: str = "job", output: str = "model"
) -> Step:
    """A ready :class:`Step` running :func:`wait_for_training`."""
    return Step(
        name,
        wait_for_training,
        {job_input: "training_job"},
        {output: "model"},
        WaitForTrainingConfig,
        version="1",
    )
