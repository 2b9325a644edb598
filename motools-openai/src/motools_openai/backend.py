"""The ``openai`` training backend: OpenAI or any OpenAI-compatible fine-tuning endpoint.

Everything that costs money happens once: the dataset is checked and priced before any
upload (:mod:`motools_openai.preflight`), uploaded once per content and endpoint, and
the job is created at most once per motools cache key (:mod:`motools_openai.submission`).
The ``openai`` SDK is imported inside methods so that registering and validating stay
fast.  API keys are read from the environment when a request is made and never returned,
stored or printed.
"""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from motools.backends import JobStatus, ModelInfo, TrainingBackend
from motools.errors import ConfigError, MotoolsError
from motools.workflow.context import current_step
from motools_openai import prices
from motools_openai.errors import scrub, translate
from motools_openai.job_events import EventTracker
from motools_openai.options import (
    DEFAULT_KEY_ENV,
    Endpoint,
    parse_options,
    validate_hyperparameters,
)
from motools_openai.preflight import Preflight, effective_epochs, run_preflight

if TYPE_CHECKING:
    from motools.atoms.builtin import DatasetAtom
    from motools.store import ContentStore

# Provider spellings of the statuses motools knows; anything else passes through.
STATUS_ALIASES = {
    "canceled": "cancelled",
    "completed": "succeeded",
    "error": "failed",
    "pending": "queued",
}
REQUEST_TIMEOUT_S = 60.0


def _progress(message: str) -> None:
    ctx = current_step()
    if ctx is not None:
        ctx.progress(message)


class OpenAIBackend(TrainingBackend):
    """Supervised fine-tuning through the OpenAI fine-tuning API (or a compatible one).

    Options: ``base_url`` (else ``OPENAI_BASE_URL``, else OpenAI), ``api_key_env`` (name
    of the variable holding the key, default ``OPENAI_API_KEY``), ``organization``,
    ``project``, ``price_per_1m_training_tokens`` (for models the price table does not
    know) and ``attempt`` (bump it to resubmit unchanged inputs after a data failure).
    """

    name = "openai"

    def __init__(self) -> None:
        self._clients: dict[tuple[Any, ...], Any] = {}
        self._preflights: dict[tuple[Any, ...], Preflight] = {}
        self._lock = threading.Lock()
        self._events = EventTracker()

    # -- validation and estimates ---------------------------------------------------
    def validate_hyperparameters(self, hyperparameters: dict[str, Any]) -> dict[str, Any]:
        """``n_epochs``, ``batch_size``, ``learning_rate_multiplier`` (each int/float or ``"auto"``) and ``seed``."""
        return validate_hyperparameters(hyperparameters)

    def validate_model(self, model: str) -> None:
        """Any non-empty model name (compatible endpoints have their own)."""
        if not isinstance(model, str) or not model.strip() or any(c.isspace() for c in model):
            raise ConfigError(
                f"submit_training.model: expected a model name such as 'gpt-4.1-mini-2025-04-14', got {model!r}"
            )

    def validate_options(self, options: dict[str, Any]) -> None:
        """Option keys, endpoint URL and the presence (never the value) of the API key."""
        parse_options(options).endpoint.api_key()

    def identity(self, options: dict[str, Any]) -> dict[str, Any]:
        """``{"endpoint": base_url}`` (plus organization/project when set); never secrets."""
        parsed = parse_options(options)
        ident = parsed.endpoint.identity()
        if parsed.attempt != 1:  # a deliberate resubmission is a new job
            ident["attempt"] = parsed.attempt
        return ident

    def preflight(self, dataset: DatasetAtom, model: str) -> Preflight:
        """Row checks and token count of ``dataset`` (memoised: atoms are immutable)."""
        path = dataset.jsonl_path
        memo = (str(path), dataset.content_hash, model)
        with self._lock:
            done = self._preflights.get(memo)
        if done is None:
            done = run_preflight(Path(path), model, source=f"{dataset.id} ({path.name})")
            with self._lock:
                self._preflights[memo] = done
        return done

    def estimate(
        self,
        dataset: DatasetAtom,
        model: str,
        hyperparameters: dict[str, Any],
        options: dict[str, Any],
    ) -> dict[str, Any]:
        """Trained tokens (dataset tokens x epochs) and cost from the versioned price table."""
        opts = parse_options(options)
        hp = validate_hyperparameters(hyperparameters)
        pf = self.preflight(dataset, model)
        epochs = effective_epochs(hp.get("n_epochs"), pf.n_rows)
        tokens = pf.dataset_tokens * epochs
        return {
            "trained_tokens_estimate": tokens,
            "estimated_cost_usd": prices.training_cost_usd(
                tokens, model, opts.price_per_1m_training_tokens
            ),
            "price_table_version": "options.price_per_1m_training_tokens"
            if opts.price_per_1m_training_tokens is not None
            else prices.CURRENT_VERSION,
            "n_rows": pf.n_rows,
            "n_epochs_estimate": epochs,
            "token_count_method": pf.token_count_method,
        }

    # -- clients ----------------------------------------------------------------------
    def _client(self, endpoint: Endpoint) -> tuple[Any, str]:
        """A client for ``endpoint`` and its key (clients are reused per endpoint and key)."""
        api_key = endpoint.api_key()
        cache_key = (endpoint, hashlib.sha256(api_key.encode()).hexdigest())
        with self._lock:
            client = self._clients.get(cache_key)
        if client is None:
            import openai

            client = openai.OpenAI(
                api_key=api_key,
                base_url=endpoint.base_url,
                organization=endpoint.organization,
                project=endpoint.project,
                timeout=REQUEST_TIMEOUT_S,
            )
            with self._lock:
                self._clients[cache_key] = client
        return client, api_key

    # -- submit -----------------------------------------------------------------------
    def submit(
        self,
        dataset: DatasetAtom,
        model: str,
        hyperparameters: dict[str, Any],
        suffix: str | None,
        idempotency_key: str,
        options: dict[str, Any],
        store: ContentStore,
    ) -> dict[str, Any]:
        """Upload (once) and create (once) the job for ``idempotency_key``, or adopt it."""
        from motools_openai.submission import TAG, adopt_or_create, job_suffix, upload_once

        opts = parse_options(options)
        endpoint = opts.endpoint
        endpoint.api_key()  # a missing key fails here, before any network call
        self.validate_model(model)
        hp = validate_hyperparameters(hyperparameters)
        estimate = self.estimate(dataset, model, hp, options)  # row errors stop us before upload
        client, api_key = self._client(endpoint)
        file_id, reused = upload_once(
            client, endpoint, Path(dataset.jsonl_path), store, api_key, _progress
        )
        method_hp = {k: v for k, v in hp.items() if k != "seed"}
        create_args: dict[str, Any] = {
            "model": model,
            "training_file": file_id,
            "suffix": job_suffix(suffix, idempotency_key),
            "metadata": {TAG: idempotency_key},
            "method": {"type": "supervised", "supervised": {"hyperparameters": method_hp}},
        }
        if "seed" in hp:
            create_args["seed"] = hp["seed"]
        job, adopted = adopt_or_create(
            client, endpoint, idempotency_key, create_args, store, api_key, _progress
        )
        return {
            "job_id": job.id,
            **endpoint.to_handle(),
            "training_file": file_id,
            "file_reused": reused,
            "adopted": adopted,
            "suffix": create_args["suffix"],
            "trained_tokens_estimate": estimate["trained_tokens_estimate"],
            "estimated_cost_usd": estimate["estimated_cost_usd"],
            "price_table_version": estimate["price_table_version"],
            "price_per_1m_training_tokens": opts.price_per_1m_training_tokens,
        }

    # -- poll, cancel, result -----------------------------------------------------------
    def _retrieve(self, handle: dict[str, Any], action: str) -> tuple[Any, str, Any]:
        endpoint = Endpoint.from_handle(handle)
        client, api_key = self._client(endpoint)
        try:
            return client, api_key, client.fine_tuning.jobs.retrieve(handle["job_id"])
        except Exception as e:
            raise translate(
                e, f"{action} job {handle['job_id']}", endpoint.base_url, api_key
            ) from None

    def status(self, handle: dict[str, Any], store: ContentStore) -> JobStatus:
        """The job's status (open set), trained tokens, new events and error if it failed.

        Transient failures raise a plain exception (the wait step retries); a user's
        mistake (bad key, job not found) raises a :class:`MotoolsError`.
        """
        client, api_key, job = self._retrieve(handle, "checking")
        raw = str(job.status or "unknown").lower()
        status = STATUS_ALIASES.get(raw, raw)
        endpoint = Endpoint.from_handle(handle)
        try:
            events, progress = self._events.update(client, job)
        except Exception as e:
            raise translate(
                e, f"reading events of job {job.id}", endpoint.base_url, api_key
            ) from None
        code = message = None
        if status in ("failed", "cancelled"):
            err = getattr(job, "error", None)
            code = getattr(err, "code", None) or status
            message = (
                getattr(err, "message", None) or f"job {job.id} {status} at {endpoint.base_url}"
            )
            param = getattr(err, "param", None)
            if param:
                message += f" (param: {param})"
            message = scrub(message, api_key)  # providers may quote the request's key
        return JobStatus(
            status,
            trained_tokens=job.trained_tokens,
            error_code=code,
            error_message=message,
            events=events,
            progress=progress,
        )

    def cancel(self, handle: dict[str, Any], store: ContentStore) -> None:
        """Ask the endpoint to cancel the job."""
        endpoint = Endpoint.from_handle(handle)
        client, api_key = self._client(endpoint)
        try:
            client.fine_tuning.jobs.cancel(handle["job_id"])
        except Exception as e:
            raise translate(
                e, f"cancelling job {handle['job_id']}", endpoint.base_url, api_key
            ) from None

    def result(self, handle: dict[str, Any], store: ContentStore) -> ModelInfo:
        """The fine-tuned model (``ft:...``) of a succeeded job, with its costs and endpoint."""
        _client, _key, job = self._retrieve(handle, "reading the result of")
        if job.status != "succeeded" or not job.fine_tuned_model:
            raise MotoolsError(f"job {job.id} is {job.status} and has no fine-tuned model yet")
        endpoint = Endpoint.from_handle(handle)
        override = handle.get("price_per_1m_training_tokens")
        meta: dict[str, Any] = {
            "endpoint": endpoint.base_url,
            "job_id": job.id,
            "trained_tokens": job.trained_tokens,
            "trained_tokens_estimate": handle.get("trained_tokens_estimate"),
            "estimated_cost_usd": handle.get("estimated_cost_usd"),
            "reported_cost_usd": prices.training_cost_usd(job.trained_tokens, job.model, override),
            "price_table_version": handle.get("price_table_version", prices.CURRENT_VERSION),
            "training_file": job.training_file,
            "result_files": list(job.result_files or []),
            "suffix": handle.get("suffix"),
        }
        meta.update(_endpoint_metadata(endpoint))
        return ModelInfo(
            provider="openai", model_id=job.fine_tuned_model, base_model=job.model, metadata=meta
        )

    def base_model_info(
        self, model: str, options: dict[str, Any], store: ContentStore
    ) -> ModelInfo:
        """The untrained ``model`` at the configured endpoint (for baseline evaluations)."""
        endpoint = parse_options(options).endpoint
        return ModelInfo(
            provider="openai",
            model_id=model,
            base_model=model,
            metadata={"endpoint": endpoint.base_url, **_endpoint_metadata(endpoint)},
        )


def _endpoint_metadata(endpoint: Endpoint) -> dict[str, Any]:
    """How an evaluator reaches the model besides ``endpoint``: names only, never the key."""
    meta: dict[str, Any] = {}
    if endpoint.api_key_env != DEFAULT_KEY_ENV:
        meta["api_key_env"] = endpoint.api_key_env
    for name in ("organization", "project"):
        if getattr(endpoint, name):
            meta[name] = getattr(endpoint, name)
    return meta
