"""``HFBackend``: fine-tunes local causal LMs in a background process per job.

``submit`` creates ``<store>/hf-jobs/<job_id>/`` (see :mod:`motools_hf.jobs`) and
starts ``python -m motools_hf.train_job`` detached, returning at once; ``status``
reads the job's ``status.json``; ``result`` points at the saved weights, which
``wait_for_training`` copies into the ``model`` atom.  Torch and transformers are only
imported by the training process and by ``base_model_info``.
"""

from __future__ import annotations

import math
import os
import shutil
import signal
import time
import uuid
from pathlib import Path
from typing import Any

from motools.backends import JobStatus, ModelInfo, TrainingBackend
from motools.errors import TrainingFailed, UserError
from motools_hf.base_models import BUILTIN_MODELS, TINY, check_model_ref, resolve_model_dir
from motools_hf.chat_data import message_text
from motools_hf.hyperparameters import validate_hyperparameters, validate_options
from motools_hf.jobs import (
    JOBS_DIR,
    TERMINAL,
    is_running,
    job_dir,
    job_id_for_key,
    read_json,
    read_status,
    spawn,
    submit_lock,
    update_status,
)

INSPECT_PROVIDER = "hflocal"
PROGRESS_KEYS = ("step", "total_steps", "epoch", "loss", "eta_s", "tokens_per_s")


def inspect_model_string(path_or_name: str | Path) -> str:
    """The Inspect model string for a weights directory or a built-in name."""
    return f"{INSPECT_PROVIDER}/{path_or_name}"


class HFBackend(TrainingBackend):
    """Local fine-tuning with transformers + peft (LoRA or full), CPU or CUDA."""

    name = "hf"

    def validate_hyperparameters(self, hyperparameters: dict[str, Any]) -> dict[str, Any]:
        return validate_hyperparameters(hyperparameters)

    def validate_model(self, model: str) -> None:
        check_model_ref(model)

    def identity(self, options: dict[str, Any]) -> dict[str, Any]:
        # Options (threads, device, checkpoint interval) do not change what is trained.
        return {}

    def model_identity(self, model: str) -> str | None:
        """Content fingerprint of a local model directory or GGUF file."""
        from motools_hf.base_models import model_fingerprint

        return model_fingerprint(model)

    def estimate(
        self, dataset: Any, model: str, hyperparameters: dict[str, Any], options: dict[str, Any]
    ) -> dict[str, Any]:
        """Approximate trained tokens (characters / 4; bytes for ``tiny``); training is free."""
        chars = sum(
            len(message_text(m.get("content", "")))
            for row in dataset.iter_rows()
            for m in row.get("messages") or []
        )
        per_epoch = chars if model == TINY else math.ceil(chars / 4)
        return {
            "trained_tokens_estimate": per_epoch * int(hyperparameters.get("n_epochs", 1)),
            "estimated_cost_usd": 0.0,
        }

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
        """Start the job for ``idempotency_key``, or adopt it (running or done), or restart
        it from its last checkpoint when its process died, failed or was cancelled."""
        ref = check_model_ref(model)
        hp = validate_hyperparameters(hyperparameters)
        opts = validate_options(options)
        job_id = job_id_for_key(idempotency_key)
        jd = job_dir(store.root, job_id)
        handle = {"job_id": job_id}
        spec = {
            "model": str(ref.path) if ref.path is not None else model,
            "model_given": model,
            "hyperparameters": hp,
            "options": opts,
            "suffix": suffix,
            "dataset": getattr(dataset, "id", None),
        }
        with submit_lock(store.root, job_id):
            if (jd / "spec.json").is_file():
                st = read_status(jd)
                if is_running(jd) and (jd / "cancel_requested").exists():
                    # a cancelled process on its way out: let it go, then restart the job
                    _wait_stopped(jd, 60.0)
                if st.get("state") == "succeeded" or is_running(jd):
                    return handle
                (jd / "cancel_requested").unlink(missing_ok=True)
                old = read_json(jd / "spec.json")
                _write_spec(jd, {**old, "options": opts})
                update_status(
                    jd,
                    event=f"restarting after {st.get('state', 'unknown')}; resumes from the last checkpoint",
                    state="queued",
                    pid=None,  # the old process's pid may be reused: never signal it
                    error=None,
                    error_code=None,
                )
            else:
                _create_job_dir(jd, spec, Path(dataset.jsonl_path))
            spawn(jd)
        return handle

    def status(self, handle: dict[str, Any], store: Any) -> JobStatus:
        jd = job_dir(store.root, str(handle.get("job_id")))
        if not (jd / "spec.json").is_file():
            # Deleted (or another store): "failed" lets a re-run submit the job afresh.
            return JobStatus(
                status="failed",
                error_code="job_missing",
                error_message=f"hf job {handle['job_id']} not found in {store.root / JOBS_DIR}; re-run to train again",
            )
        st = read_status(jd)
        state = st.get("state", "queued")
        error_code, error = st.get("error_code"), st.get("error")
        if state not in TERMINAL and not is_running(jd):
            st = read_status(jd)  # it may have finished between the two reads
            state = st.get("state", "queued")
            if state not in TERMINAL:
                if (jd / "cancel_requested").exists():
                    state, error_code, error = "cancelled", "cancelled", "cancelled"
                else:
                    step = st.get("step", 0)
                    state, error_code = "failed", "process_died"
                    error = (
                        f"the training process of {handle['job_id']} is not running (killed or crashed at "
                        f"step {step}; see {jd / 'train.log'}). Re-run the workflow: the job resumes from its last checkpoint."
                    )
        return JobStatus(
            status=state,
            trained_tokens=st.get("trained_tokens"),
            error_code=error_code if state in ("failed", "cancelled") else None,
            error_message=error if state in ("failed", "cancelled") else None,
            events=list(st.get("events", [])),
            progress={k: st[k] for k in PROGRESS_KEYS if k in st},
        )

    def cancel(self, handle: dict[str, Any], store: Any) -> None:
        """Stop the training process (SIGTERM, then SIGKILL after 30 s) and mark the job cancelled."""
        jd = _existing_job_dir(handle, store)
        with submit_lock(store.root, handle["job_id"]):
            if read_status(jd).get("state") in TERMINAL:
                return
            (jd / "cancel_requested").touch()
            for sig, wait_s in ((signal.SIGTERM, 30.0), (signal.SIGKILL, 10.0)):
                # The process takes its lock before it records its pid: wait for the pid
                # rather than leave a starting process running unsignalled.
                deadline = time.monotonic() + 30.0
                pid = read_status(jd).get("pid")
                while is_running(jd) and not pid and time.monotonic() < deadline:
                    time.sleep(0.05)
                    pid = read_status(jd).get("pid")
                if not is_running(jd) or not pid:
                    break
                try:
                    os.kill(int(pid), sig)
                except ProcessLookupError:
                    break
                deadline = time.monotonic() + wait_s
                while is_running(jd) and time.monotonic() < deadline:
                    time.sleep(0.05)
            if read_status(jd).get("state") not in TERMINAL:
                update_status(
                    jd,
                    event="cancelled",
                    state="cancelled",
                    error="cancelled",
                    error_code="cancelled",
                )

    def result(self, handle: dict[str, Any], store: Any) -> ModelInfo:
        jd = _existing_job_dir(handle, store)
        st = self.status(handle, store)
        if st.status != "succeeded":
            raise TrainingFailed(
                f"hf job {handle['job_id']} has no result: it is {st.status}",
                code=st.error_code or st.status,
            )
        spec = read_json(jd / "spec.json")
        summary = read_status(jd).get("summary", {})
        given = spec["model_given"]
        base_name = given if given in BUILTIN_MODELS else Path(given).name
        tag = spec.get("suffix") or "ft"
        return ModelInfo(
            provider="hf",
            model_id=f"hf:{base_name}:{tag}:{handle['job_id']}",
            base_model=given,
            weights_path=jd / "output",
            metadata={
                "inspect_model": inspect_model_string("{weights_dir}"),
                "method": spec["hyperparameters"]["method"],
                "hyperparameters": spec["hyperparameters"],
                **{
                    k: summary[k]
                    for k in ("train_seconds", "final_loss", "trained_tokens", "device", "examples")
                    if k in summary
                },
            },
        )

    def base_model_info(self, model: str, options: dict[str, Any], store: Any) -> ModelInfo:
        """The untrained ``model`` (converted/built once into ``<store>/hf-cache``)."""
        check_model_ref(model)
        d = resolve_model_dir(model, store.root)
        return ModelInfo(
            provider="hf",
            model_id=f"hf:{model if model in BUILTIN_MODELS else Path(model).name}",
            base_model=model,
            weights_path=None,
            metadata={
                "weights_dir": str(d),
                "inspect_model": inspect_model_string(d),
                "untrained": True,
            },
        )


def _existing_job_dir(handle: dict[str, Any], store: Any) -> Path:
    jd = job_dir(store.root, str(handle.get("job_id")))
    if not (jd / "spec.json").is_file():
        raise UserError(
            f"hf job {handle.get('job_id')} not found in {store.root / JOBS_DIR} (was the store moved or the job directory deleted?)"
        )
    return jd


def _write_spec(jd: Path, spec: dict[str, Any]) -> None:
    import json

    tmp = jd / ".spec.json.tmp"
    tmp.write_text(json.dumps(spec, indent=1, sort_keys=True), encoding="utf-8")
    os.replace(tmp, jd / "spec.json")


def _create_job_dir(jd: Path, spec: dict[str, Any], data: Path) -> None:
    """Build the job directory under a temporary name and rename it into place."""
    staging = jd.parent / f".new-{jd.name}-{uuid.uuid4().hex[:8]}"
    staging.mkdir(parents=True)
    try:
        shutil.copyfile(data, staging / "data.jsonl")
        _write_spec(staging, spec)
        update_status(staging, event="submitted", state="queued", created_at=time.time())
        os.rename(staging, jd)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _wait_stopped(jobdir: Path, timeout_s: float) -> None:
    """Wait until no process holds the job's run lock (at most ``timeout_s``)."""
    deadline = time.monotonic() + timeout_s
    while is_running(jobdir) and time.monotonic() < deadline:
        time.sleep(0.05)
