"""Uploading once and submitting once: the parts of the backend that cost money.

*Upload*: a dataset file is uploaded once per (content sha256, endpoint); the file id is
recorded in the store's kv table and reused after checking the file still exists.

*Submit*: a job is tagged with ``metadata={"motools_cache_key": key}`` and a readable
suffix ending in the key's first characters.  Before creating a job we look for one
with that tag (our own kv record, the endpoint's metadata filter, and a scan of recent
jobs for endpoints that ignore the filter) and adopt it.  The SDK retries POSTs on
timeouts and 5xx, and a POST whose response was lost may still have created a job, so
``create`` is sent with ``max_retries=0`` inside our own loop that looks for the tagged
job again before every retry.  The job id is recorded the moment it is known.
"""

from __future__ import annotations

import random
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from motools.errors import UserError
from motools.store.content_store import utcnow
from motools.store.hashing import hash_file
from motools_openai.errors import ProviderUnavailable, TransientProviderError, translate
from motools_openai.options import Endpoint

TAG = "motools_cache_key"
FILES_NS = "openai_files"
JOBS_NS = "openai_jobs"
MAX_CREATE_ATTEMPTS = 5
CONNECTION_SETTLE_S = 5.0
SCAN_LIMIT = 100
FAILED = ("failed", "cancelled")
# Failure codes that mean the data or a usage policy is at fault: resubmitting the same
# thing would fail again (and may be billed), so it needs a change first.
_DATA_POLICY_WORDS = (
    "invalid",
    "file",
    "format",
    "example",
    "policy",
    "moderation",
    "safety",
    "unsafe",
    "content",
)

Progress = Callable[[str], None]


def job_suffix(suffix: str | None, key: str) -> str:
    """A readable model-name suffix: the user's suffix (or ``motools``) plus the key's first 8 chars."""
    base = re.sub(r"[^A-Za-z0-9_-]+", "-", suffix or "motools").strip("-") or "motools"
    return f"{base[:55]}-{key[:8]}"


def upload_once(
    client: Any, endpoint: Endpoint, path: Path, store: Any, api_key: str, progress: Progress
) -> tuple[str, bool]:
    """The provider file id of the file at ``path``; upload only if no live copy is recorded.

    Returns ``(file_id, reused)``.
    """
    import openai

    sha = hash_file(path)[0]
    kv_key = f"{endpoint.kv_prefix}|{sha}"
    known = store.kv_get(FILES_NS, kv_key)
    if known:
        try:
            f = client.files.retrieve(known["file_id"])
            if getattr(f, "status", None) not in ("error", "deleted"):
                progress(f"reusing uploaded file {f.id}")
                return f.id, True
        except openai.NotFoundError:
            pass  # deleted on the provider: upload again
        except Exception as e:
            raise translate(
                e, "checking the uploaded dataset file", endpoint.base_url, api_key
            ) from None
    progress(f"uploading {path.stat().st_size} bytes to {endpoint.base_url}")
    try:
        with open(path, "rb") as fh:
            f = client.files.create(file=(f"motools-{sha[:12]}.jsonl", fh), purpose="fine-tune")
    except Exception as e:
        raise translate(e, "uploading the dataset", endpoint.base_url, api_key) from None
    store.kv_set(
        FILES_NS,
        kv_key,
        {"file_id": f.id, "bytes": path.stat().st_size, "sha256": sha, "uploaded_at": utcnow()},
    )
    return f.id, False


def _tagged(job: Any, key: str, suffix: str) -> bool:
    meta = getattr(job, "metadata", None)
    if meta:
        return bool(meta.get(TAG) == key)
    # Only for endpoints that drop metadata: they may keep the suffix we asked for.
    extra = getattr(job, "model_extra", None) or {}
    return bool(extra.get("user_provided_suffix") == suffix)


def find_tagged_jobs(
    client: Any, key: str, suffix: str, endpoint: Endpoint, api_key: str
) -> list[Any]:
    """Jobs tagged with ``key``, newest first: metadata filter, then a scan of recent jobs."""
    import openai

    found: dict[str, Any] = {}
    try:
        page = client.fine_tuning.jobs.list(metadata={TAG: key}, limit=SCAN_LIMIT)
        found.update({j.id: j for j in page.data if _tagged(j, key, suffix)})
    except (openai.BadRequestError, openai.NotFoundError, openai.UnprocessableEntityError):
        pass  # the endpoint does not support the filter: the scan below still finds it
    except Exception as e:
        raise translate(e, "looking for an existing job", endpoint.base_url, api_key) from None
    if not found:
        try:
            page = client.fine_tuning.jobs.list(limit=SCAN_LIMIT)
        except Exception as e:
            raise translate(e, "looking for an existing job", endpoint.base_url, api_key) from None
        found.update({j.id: j for j in page.data if _tagged(j, key, suffix)})
    return sorted(found.values(), key=lambda j: (j.created_at or 0, j.id), reverse=True)


def is_data_or_policy_failure(job: Any) -> bool:
    """Whether a failed job failed because of its data or a usage policy."""
    err = getattr(job, "error", None)
    if job.status != "failed" or err is None:
        return False
    text = f"{getattr(err, 'code', '') or ''} {getattr(err, 'param', '') or ''}".lower()
    return any(w in text for w in _DATA_POLICY_WORDS)


def choose_existing(jobs: list[Any]) -> Any | None:
    """The job to adopt among tagged ones; refuses to resubmit after a data/policy failure."""
    live = [j for j in jobs if j.status not in FAILED]
    if live:
        return live[0]
    if jobs and is_data_or_policy_failure(jobs[0]):
        j = jobs[0]
        raise UserError(
            f"job {j.id} with exactly these inputs failed because of its data or a usage policy "
            f"([{j.error.code}] {j.error.message}); resubmitting the same thing would fail again. "
            "Fix the dataset or config; to retry unchanged anyway, set options.attempt to a new number."
        )
    return None


def record_job(store: Any, endpoint: Endpoint, key: str, job_id: str) -> None:
    """Record the job of ``key`` at ``endpoint`` (the moment its id is known)."""
    store.kv_set(
        JOBS_NS, f"{endpoint.kv_prefix}|{key}", {"job_id": job_id, "recorded_at": utcnow()}
    )


def recorded_job(client: Any, store: Any, endpoint: Endpoint, key: str, api_key: str) -> Any | None:
    """The job recorded for ``key``, if the endpoint still has it."""
    import openai

    rec = store.kv_get(JOBS_NS, f"{endpoint.kv_prefix}|{key}")
    if not rec:
        return None
    try:
        return client.fine_tuning.jobs.retrieve(rec["job_id"])
    except openai.NotFoundError:
        return None
    except Exception as e:
        raise translate(
            e, f"checking recorded job {rec['job_id']}", endpoint.base_url, api_key
        ) from None


def adopt_or_create(
    client: Any,
    endpoint: Endpoint,
    key: str,
    create_args: dict[str, Any],
    store: Any,
    api_key: str,
    progress: Progress,
    base_delay: float = 0.5,
) -> tuple[Any, bool]:
    """Return ``(job, adopted)``: an existing job tagged ``key``, or one new job.

    ``create_args`` are the keyword arguments of ``fine_tuning.jobs.create`` (the tag and
    suffix are already in them).  Never creates a second job for ``key``.
    """
    suffix = create_args["suffix"]
    rec = recorded_job(client, store, endpoint, key, api_key)
    if rec is not None and rec.status not in FAILED:
        progress(f"re-attached to recorded job {rec.id} ({rec.status})")
        return rec, True
    candidates = [rec] if rec is not None else []
    candidates += [
        j
        for j in find_tagged_jobs(client, key, suffix, endpoint, api_key)
        if rec is None or j.id != rec.id
    ]
    candidates.sort(key=lambda j: (j.created_at or 0, j.id), reverse=True)
    existing = choose_existing(candidates)
    if existing is not None:
        record_job(store, endpoint, key, existing.id)
        progress(f"adopted existing job {existing.id} ({existing.status})")
        return existing, True
    creator = client.with_options(max_retries=0)
    # Endpoints that honour Idempotency-Key dedupe retries themselves; the count of failed
    # jobs keeps a resubmission after a failure from being answered with the failed job.
    headers = {"Idempotency-Key": f"motools-{key}-{len(candidates)}"}
    last: TransientProviderError | None = None
    for attempt in range(MAX_CREATE_ATTEMPTS):
        if attempt:
            delay = (
                last.retry_after
                if last and last.retry_after is not None
                else base_delay * 2 ** (attempt - 1)
            )
            if last is not None and last.status is None:
                # No answer at all (timeout, dropped connection): give a create that is
                # still being processed time to show up in the listing.
                delay = max(delay, CONNECTION_SETTLE_S)
            time.sleep(min(delay, 30.0) * random.uniform(1.0, 1.25))
            # The lost response may have created the job: look before trying again.
            live = [
                j
                for j in find_tagged_jobs(client, key, suffix, endpoint, api_key)
                if j.status not in FAILED
            ]
            if live:
                record_job(store, endpoint, key, live[0].id)
                progress(f"adopted job {live[0].id} created by an earlier attempt")
                return live[0], True
        try:
            job = creator.fine_tuning.jobs.create(**create_args, extra_headers=headers)
        except Exception as e:
            err = translate(e, "creating the fine-tuning job", endpoint.base_url, api_key)
            if not isinstance(err, TransientProviderError):
                raise err from None
            last = err
            progress(f"{err}; checking for the job before retrying")
            continue
        record_job(store, endpoint, key, job.id)
        return job, False
    live = [
        j
        for j in find_tagged_jobs(client, key, suffix, endpoint, api_key)
        if j.status not in FAILED
    ]
    if live:
        record_job(store, endpoint, key, live[0].id)
        return live[0], True
    raise ProviderUnavailable(
        f"creating the fine-tuning job failed {MAX_CREATE_ATTEMPTS} times ({last}); no job was created. Re-run later."
    )
