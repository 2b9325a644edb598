"""Warm worker processes for Inspect evaluations, one evaluation per worker at a time.

Why processes: Inspect allows one ``eval_async`` per process, so concurrent evaluations
(parallel workflow branches, sweeps) each need their own process.  Why a pool: starting
a worker costs about as much as a small evaluation (importing Inspect takes seconds), so
an idle worker is reused by the next evaluation of the same store instead of paying that
again.  A pool starts as many workers as evaluations run at once, up to
``MOTOOLS_INSPECT_MAX_WORKERS`` (default 8; more evaluations wait for a free worker).

Waiting happens in a helper thread per evaluation (blocking pipe reads), so the pool
works from any event loop (``run_workflow`` makes a new one per run) and never occupies
asyncio's small default thread pool.  Cancelling an evaluation kills its worker.
"""

from __future__ import annotations

import asyncio
import atexit
import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from motools.errors import MotoolsError
from motools_inspect.store_dirs import InspectDirs

DEFAULT_MAX_WORKERS = 8
IDLE_TIMEOUT_S = 600.0
MAX_EVALS_PER_WORKER = 20


class WorkerDied(MotoolsError):
    """A worker process exited before answering (crash, out of memory, killed)."""


class Worker:
    """One ``python -m motools_inspect.worker`` process."""

    def __init__(self, dirs: InspectDirs):
        self.dirs = dirs
        self.stderr_path = dirs.workers / f"worker-{uuid.uuid4().hex[:12]}.log"
        self._stderr = open(self.stderr_path, "wb")  # noqa: SIM115  (closed in close())
        cmd = [
            sys.executable, "-m", "motools_inspect.worker",
            "--data", str(dirs.data), "--cache", str(dirs.cache),
            "--idle-timeout", str(IDLE_TIMEOUT_S), "--max-evals", str(MAX_EVALS_PER_WORKER),
        ]  # fmt: skip
        self.proc = subprocess.Popen(
            cmd,
            cwd=dirs.work,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            env=_spawn_env(),
            start_new_session=os.name == "posix",  # so that killing reaches Inspect's children too
        )
        self.retired = False
        self.idle_since = time.monotonic()

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc.poll() is None and not self.retired

    def call(self, request: dict[str, Any]) -> dict[str, Any]:
        """Send one request and block until its response (skipping the ready line)."""
        assert self.proc.stdin is not None and self.proc.stdout is not None
        try:
            self.proc.stdin.write((json.dumps(request) + "\n").encode())
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError):
            raise WorkerDied(self._death_message()) from None
        while True:
            line = self.proc.stdout.readline()
            if not line:
                raise WorkerDied(self._death_message())
            msg = json.loads(line)
            if msg.get("ready"):
                continue
            self.retired = bool(msg.get("retire"))
            return dict(msg)

    def _death_message(self) -> str:
        try:
            code = self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            code = None
        tail = self.stderr_tail()
        return (
            f"the Inspect worker process (pid {self.pid}) exited with code {code} before answering"
            + (f"; its last output:\n{tail}" if tail else "")
        )

    def stderr_tail(self, limit: int = 3000) -> str:
        try:
            data = self.stderr_path.read_bytes()
        except OSError:
            return ""
        return data[-limit:].decode(errors="replace").strip()

    def kill(self) -> None:
        """Stop the worker now (and any process group it leads)."""
        self.retired = True
        if self.proc.poll() is not None:
            return
        try:
            if os.name == "posix":
                os.killpg(self.proc.pid, signal.SIGKILL)
            else:
                self.proc.kill()
        except (ProcessLookupError, PermissionError):
            pass

    def close(self, timeout: float = 5.0) -> None:
        """Ask the worker to exit (stdin EOF); kill it if it does not."""
        self.retired = True
        try:
            if self.proc.stdin is not None:
                self.proc.stdin.close()
        except OSError:
            pass
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            self.proc.wait()
        clean = self.proc.returncode == 0
        self._stderr.close()
        if clean:
            self.stderr_path.unlink(missing_ok=True)


def _spawn_env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PYTHONSTARTUP", None)
    return env


def max_workers() -> int:
    """The pool size limit: ``MOTOOLS_INSPECT_MAX_WORKERS`` or 8."""
    raw = os.environ.get("MOTOOLS_INSPECT_MAX_WORKERS", "")
    try:
        return max(1, int(raw)) if raw else DEFAULT_MAX_WORKERS
    except ValueError:
        return DEFAULT_MAX_WORKERS


class WorkerPool:
    """The workers of one store (their Inspect data directories live in that store)."""

    def __init__(self, dirs: InspectDirs):
        self.dirs = dirs
        self._idle: list[Worker] = []
        self._all: set[Worker] = set()
        self._lock = threading.Lock()
        self._slots = threading.Semaphore(max_workers())

    async def run(self, request: dict[str, Any]) -> dict[str, Any]:
        """Run ``request`` on a free worker and return its response."""
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[dict[str, Any]] = loop.create_future()
        holder: dict[str, Worker] = {}

        def deliver(setter: str, value: Any) -> None:
            def apply() -> None:
                if not fut.done():
                    getattr(fut, setter)(value)

            try:
                loop.call_soon_threadsafe(apply)
            except RuntimeError:  # the loop is gone (the caller was cancelled)
                pass

        def target() -> None:
            try:
                deliver("set_result", self._run_blocking(request, holder))
            except BaseException as e:
                deliver("set_exception", e)

        threading.Thread(target=target, name="motools-inspect-eval", daemon=True).start()
        try:
            return await fut
        except asyncio.CancelledError:
            worker = holder.get("worker")
            if worker is not None:
                worker.kill()
            raise

    def _run_blocking(self, request: dict[str, Any], holder: dict[str, Worker]) -> dict[str, Any]:
        with self._slots:
            worker = self._take()
            holder["worker"] = worker
            try:
                return worker.call(request)
            finally:
                self._give_back(worker)

    def _take(self) -> Worker:
        with self._lock:
            while self._idle:
                w = self._idle.pop()
                if w.alive():
                    return w
                self._all.discard(w)
                w.close(timeout=1)
            w = Worker(self.dirs)
            self._all.add(w)
            return w

    def _give_back(self, worker: Worker) -> None:
        with self._lock:
            alive = worker.alive()
            if alive:
                worker.idle_since = time.monotonic()
                self._idle.append(worker)
            else:
                self._all.discard(worker)
        if alive:
            _trim_idle_workers()
        else:
            worker.close(timeout=2)

    def _drop_idle(self, worker: Worker) -> bool:
        """Remove ``worker`` from the idle list if it is still there (then the caller closes it)."""
        with self._lock:
            if worker not in self._idle:
                return False
            self._idle.remove(worker)
            self._all.discard(worker)
            return True

    def idle_workers(self) -> list[Worker]:
        with self._lock:
            return list(self._idle)

    def prestart(self, n: int) -> list[int]:
        """Start workers until ``n`` are idle, wait until they have imported Inspect; their pids.

        For benchmarks and tests that want to time evaluations on warm workers.
        """
        with self._lock:
            missing = max(0, n - len(self._idle))
        fresh = [Worker(self.dirs) for _ in range(missing)]
        for w in fresh:
            assert w.proc.stdout is not None
            line = w.proc.stdout.readline()
            if not line or not json.loads(line).get("ready"):
                raise WorkerDied(w._death_message())
        with self._lock:
            self._all.update(fresh)
            self._idle.extend(fresh)
            return [w.pid for w in self._idle]

    def worker_pids(self) -> list[int]:
        with self._lock:
            return sorted(w.pid for w in self._all if w.alive())

    def release(self) -> None:
        """Without waiting: close idle workers' stdin (they exit), kill busy ones."""
        with self._lock:
            workers, idle, self._all, self._idle = list(self._all), set(self._idle), set(), []
        for w in workers:
            if w in idle:
                try:
                    if w.proc.stdin is not None:
                        w.proc.stdin.close()
                except OSError:
                    pass
            else:
                w.kill()

    def shutdown(self) -> None:
        """Close every worker (idle ones exit at once; busy ones are killed)."""
        with self._lock:
            workers, self._all, self._idle = list(self._all), set(), []
        for w in workers:
            w.close(timeout=2)


_pools: dict[Path, WorkerPool] = {}
_pools_lock = threading.Lock()


def get_pool(dirs: InspectDirs) -> WorkerPool:
    """The pool of the store whose Inspect directories are ``dirs`` (created on first use)."""
    with _pools_lock:
        pool = _pools.get(dirs.root)
        if pool is None:
            pool = _pools[dirs.root] = WorkerPool(dirs)
        return pool


def _trim_idle_workers() -> None:
    """Keep at most ``max_workers()`` idle workers over all pools (each holds Inspect in memory).

    A process that evaluates with several stores (a test suite, for instance) would
    otherwise keep every store's workers; the ones idle longest are closed first.
    """
    with _pools_lock:
        pools = list(_pools.values())
    idle = sorted(
        ((w.idle_since, id(w), w, p) for p in pools for w in p.idle_workers()), key=lambda t: t[:2]
    )
    for _since, _id, w, p in idle[: max(0, len(idle) - max_workers())]:
        if p._drop_idle(w):
            w.close(timeout=2)


def shutdown_pools() -> None:
    """Close every worker of every pool (also run at interpreter exit)."""
    with _pools_lock:
        pools = list(_pools.values())
        _pools.clear()
    for p in pools:
        p.shutdown()


def _release_at_exit() -> None:
    """At interpreter exit: idle workers get EOF and exit by themselves; busy ones are killed."""
    with _pools_lock:
        pools = list(_pools.values())
        _pools.clear()
    for p in pools:
        p.release()


atexit.register(_release_at_exit)
