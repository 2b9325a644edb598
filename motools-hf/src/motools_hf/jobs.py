"""Job directories of the ``hf`` backend: layout, status file, liveness and spawning.

A job lives in ``<store>/hf-jobs/<job_id>/``::

    spec.json          what to train (model, hyperparameters, options); written once
    data.jsonl         the training rows (a copy of the dataset atom's file)
    status.json        state, pid, step, total_steps, loss, eta_s, events (rewritten atomically)
    train.log          the training process's stdout and stderr (progress lines)
    run.lock           flock-ed by the training process for its whole life
    checkpoint/        trainable weights + optimizer state of the last checkpoint
    output/            final weights + tokenizer (appears, by rename, when training is done)
    cancel_requested   present once cancel() was called

Whether a job's process is alive is decided by the lock, not by its pid: the kernel
releases a flock when the process dies, even by SIGKILL, and pids get reused.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from motools.errors import UserError

JOBS_DIR = "hf-jobs"
TERMINAL = ("succeeded", "failed", "cancelled")
_JOB_ID_RE = re.compile(r"^hfjob-[0-9a-f]{20}$")


def job_id_for_key(idempotency_key: str) -> str:
    """The job id of an idempotency key (stable, filesystem safe)."""
    return "hfjob-" + hashlib.sha256(idempotency_key.encode()).hexdigest()[:20]


def job_dir(store_root: Path, job_id: str) -> Path:
    """The directory of ``job_id`` in the store at ``store_root``."""
    if not _JOB_ID_RE.match(str(job_id)):
        raise UserError(f"not an hf backend job id: {job_id!r}")
    return Path(store_root) / JOBS_DIR / job_id


def _write_json_atomic(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(data, f, indent=1, sort_keys=True)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def read_json(path: Path) -> dict[str, Any]:
    """A JSON file's object, or ``{}`` when it does not exist yet."""
    try:
        with open(path, encoding="utf-8") as f:
            return dict(json.load(f))
    except FileNotFoundError:
        return {}


def read_status(jobdir: Path) -> dict[str, Any]:
    """The job's ``status.json`` (``{}`` before the first write)."""
    return read_json(jobdir / "status.json")


@contextlib.contextmanager
def _flock(path: Path) -> Iterator[None]:
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def update_status(jobdir: Path, event: str | None = None, **fields: Any) -> dict[str, Any]:
    """Merge ``fields`` into ``status.json`` (and append ``event``); return the new status."""
    with _flock(jobdir / ".status.lock"):
        st = read_status(jobdir)
        st.update(fields)
        st["updated_at"] = time.time()
        if event:
            st["events"] = [*st.get("events", []), event][-200:]
        _write_json_atomic(jobdir / "status.json", st)
        return st


@contextlib.contextmanager
def submit_lock(store_root: Path, job_id: str) -> Iterator[None]:
    """Serialises submit/cancel of one job across threads and processes."""
    root = Path(store_root) / JOBS_DIR
    root.mkdir(parents=True, exist_ok=True)
    with _flock(root / f".{job_id}.lock"):
        yield


def is_running(jobdir: Path) -> bool:
    """Whether a training process holds the job's run lock right now."""
    path = jobdir / "run.lock"
    if not path.exists():
        return False
    fd = os.open(path, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # closing releases the lock if we got it
    return False


def acquire_run_lock(jobdir: Path, wait_s: float = 5.0) -> int | None:
    """Take the run lock for this process's lifetime; ``None`` if another process holds it."""
    fd = os.open(jobdir / "run.lock", os.O_RDWR | os.O_CREAT, 0o644)
    deadline = time.monotonic() + wait_s
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return fd
        except BlockingIOError:
            # Someone may just be probing liveness (they hold it for microseconds).
            if time.monotonic() > deadline:
                os.close(fd)
                return None
            time.sleep(0.05)


def child_env() -> dict[str, str]:
    """Environment of a training process: offline, quiet, unbuffered."""
    env = dict(os.environ)
    env.update(
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
        HF_DATASETS_OFFLINE="1",
        HF_HUB_DISABLE_PROGRESS_BARS="1",
        TOKENIZERS_PARALLELISM="false",
        PYTHONUNBUFFERED="1",
    )
    return env


def spawn(jobdir: Path, start_timeout_s: float = 60.0) -> int:
    """Start ``python -m motools_hf.train_job <jobdir>`` detached; return its pid.

    Waits until the child holds the run lock (it takes it before importing anything
    heavy) or has exited, so that a status check right after submit sees it alive.
    """
    with open(jobdir / "train.log", "ab") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "motools_hf.train_job", str(jobdir)],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=jobdir,
            env=child_env(),
            start_new_session=True,  # Ctrl-C on the workflow must not kill training
            close_fds=True,
        )
    deadline = time.monotonic() + start_timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None or is_running(jobdir):
            break
        time.sleep(0.02)
    return proc.pid
