"""A process that runs Inspect evaluations, one at a time: ``python -m motools_inspect.worker``.

Inspect allows one ``eval_async`` per process, so every concurrent evaluation gets its
own worker (see :mod:`motools_inspect.worker_pool`).  A worker imports Inspect once and
then serves requests until its stdin closes, it has been idle for ``--idle-timeout``
seconds, or it has served ``--max-evals`` evaluations.

Protocol: one JSON request per line on stdin; one JSON response per line on the
original stdout (fd 1 is then pointed at stderr, so that anything Inspect or a task
prints cannot corrupt the protocol).  Requests carry the caller's environment and
``sys.path`` so that a reused worker sees what a fresh one would.

Hermetic: Inspect's data and cache directories are redirected to ``--data`` /
``--cache`` (under the motools store) before Inspect is imported, and the worker runs
in a directory holding an empty ``.env``, which stops Inspect's upward ``.env`` search.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import json
import math
import os
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import Any

PROTOCOL_VERSION = 1


def redirect_inspect_dirs(data_dir: str, cache_dir: str) -> None:
    """Make ``platformdirs`` answer ``data_dir`` / ``cache_dir`` for the ``inspect_ai`` app.

    Must run before Inspect is imported (``inspect_ai._util.appdirs`` binds the
    functions at import).  Other applications' directories are left alone (a Hugging
    Face cache, for instance, stays where the user keeps it).
    """
    import platformdirs

    orig_data, orig_cache = platformdirs.user_data_path, platformdirs.user_cache_path

    def user_data_path(appname: str | None = None, *args: Any, **kwargs: Any) -> Path:
        if appname == "inspect_ai":
            return Path(data_dir) / appname
        return orig_data(appname, *args, **kwargs)

    def user_cache_path(appname: str | None = None, *args: Any, **kwargs: Any) -> Path:
        if appname == "inspect_ai":
            return Path(cache_dir) / appname
        return orig_cache(appname, *args, **kwargs)

    platformdirs.user_data_path = user_data_path  # type: ignore[assignment]
    platformdirs.user_cache_path = user_cache_path  # type: ignore[assignment]
    appdirs = sys.modules.get("inspect_ai._util.appdirs")
    if appdirs is not None:  # imported already (should not happen): patch its bindings
        appdirs.user_data_path = user_data_path  # type: ignore[attr-defined]
        appdirs.user_cache_path = user_cache_path  # type: ignore[attr-defined]


# -- one evaluation --------------------------------------------------------------------

_module_mtimes: dict[str, float] = {}


def _load_module(name: str) -> Any:
    """Import ``name``; re-import it when its source changed since this worker loaded it."""
    mod = sys.modules.get(name)
    path = getattr(mod, "__file__", None) if mod is not None else None
    if (
        mod is not None
        and path
        and os.path.exists(path)
        and os.path.getmtime(path) != _module_mtimes.get(name)
    ):
        mod = importlib.reload(mod)
    elif mod is None:
        mod = importlib.import_module(name)
    path = getattr(mod, "__file__", None)
    if path and os.path.exists(path):
        _module_mtimes[name] = os.path.getmtime(path)
    return mod


def resolve_task(ref: dict[str, Any], task_args: Any) -> tuple[Any, Any]:
    """(what to pass to ``inspect_ai.eval`` as tasks, the task_args still to pass)."""
    from inspect_ai import Task
    from inspect_ai._util.registry import is_registry_object

    kind, target, name = ref["kind"], ref["target"], ref.get("name")
    if kind == "module":
        obj = getattr(_load_module(target), str(name), None)
        if obj is None:
            raise LookupError(f"module {target!r} has no attribute {name!r}")
        if isinstance(obj, Task) or is_registry_object(obj):
            return obj, task_args  # a Task, or an @task function (Inspect applies task_args)
        if callable(obj):
            task = obj(**(task_args if isinstance(task_args, dict) else {}))
            if not isinstance(task, Task):
                raise TypeError(
                    f"{target}:{name} returned {type(task).__name__}, not an inspect_ai Task"
                )
            return task, {}
        raise TypeError(
            f"{target}:{name} is a {type(obj).__name__}, not a Task or a function returning one"
        )
    if kind == "file":
        return (f"{target}@{name}" if name else target), task_args
    return target, task_args


def mock_outputs(model: str, model_args: dict[str, Any]) -> dict[str, Any]:
    """For ``mockllm/``: ``custom_outputs`` given as JSON objects become ``ModelOutput`` s.

    This is how a config (which is plain data) scripts a mock model with explicit
    ``usage`` on every output, as offline runs need.
    """
    outs = model_args.get("custom_outputs")
    if not model.startswith("mockllm/") or not isinstance(outs, list):
        return model_args
    from inspect_ai.model import ModelOutput

    return {
        **model_args,
        "custom_outputs": [
            ModelOutput.model_validate(o) if isinstance(o, dict) else o for o in outs
        ],
    }


def _number(v: Any) -> float | None:
    return None if isinstance(v, float) and math.isnan(v) else v


def summarize_log(log: Any) -> dict[str, Any]:
    """The JSON facts motools keeps from one ``EvalLog``."""
    scores: dict[str, dict[str, Any]] = {}
    total = completed = 0
    if log.results is not None:
        total, completed = log.results.total_samples, log.results.completed_samples
        for s in log.results.scores:
            scores[s.name] = {k: _number(m.value) for k, m in s.metrics.items()}
    return {
        "task": log.eval.task,
        "status": log.status,
        "location": str(log.location),
        "model": log.eval.model,
        "error": log.error.message if log.error else None,
        "traceback": log.error.traceback if log.error else None,
        "scores": scores,
        "total_samples": total,
        "completed_samples": completed,
        "usage": {m: u.model_dump(exclude_none=True) for m, u in log.stats.model_usage.items()},
        "started_at": log.stats.started_at,
        "completed_at": log.stats.completed_at,
        "eval_id": log.eval.eval_id,
        "run_id": log.eval.run_id,
        "task_args": log.eval.task_args,
    }


def run_request(req: dict[str, Any]) -> dict[str, Any]:
    """Run one evaluation request; exceptions become ``{"ok": False, ...}``."""
    t0 = time.time()
    try:
        os.environ.clear()
        os.environ.update(req.get("env") or {})
        for p in reversed(req.get("sys_path") or []):
            if p not in sys.path:
                sys.path.insert(0, p)
        import inspect_ai

        kwargs = dict(req.get("eval_kwargs") or {})
        tasks, task_args = resolve_task(req["task"], kwargs.pop("task_args", {}))
        model_args = req.get("model_args") or {}
        if isinstance(model_args, dict):  # else: a JSON/YAML file that Inspect reads
            model_args = mock_outputs(req["model"], model_args)
        kwargs.setdefault("ctl_server", False)
        started = time.time()
        logs = inspect_ai.eval(
            tasks,
            model=req["model"],
            model_base_url=req.get("model_base_url"),
            model_args=model_args,
            task_args=task_args,
            log_dir=req["log_dir"],
            log_format="eval",
            display="none",
            **kwargs,
        )
        finished = time.time()
        return {"ok": True, "logs": [summarize_log(log) for log in logs], "eval_started": started,
                "eval_finished": finished, "worker_seconds": finished - t0, "pid": os.getpid(),
                "inspect_version": inspect_ai.__version__}  # fmt: skip
    except BaseException as e:  # report, keep serving
        if isinstance(e, KeyboardInterrupt | SystemExit):
            raise
        return {
            "ok": False,
            "error": f"{type(e).__name__}: {e}",
            "traceback": traceback.format_exc()[-6000:],
            "pid": os.getpid(),
        }
    finally:
        _forget_models()


def _forget_models() -> None:
    """Drop Inspect's memoized models so a reused worker does not keep weights in memory."""
    try:
        from inspect_ai.model import _model

        _model._models.clear()
    except Exception:
        pass
    gc.collect()


def warm_up(data_dir: str) -> None:
    """Run a one-sample mock evaluation while no request is waiting.

    Inspect imports much of itself (and model SDKs) lazily during the first evaluation
    of a process; paying that while idle makes a started worker answer its first
    request as fast as later ones.  Failures are only reported: a real request will
    show them.
    """
    import tempfile

    try:
        from inspect_ai import Task, eval
        from inspect_ai.dataset import Sample
        from inspect_ai.model import ModelOutput, ModelUsage
        from inspect_ai.scorer import match
        from inspect_ai.solver import generate

        out = ModelOutput.from_content("mockllm/model", "ok")
        out.usage = ModelUsage(input_tokens=1, output_tokens=1, total_tokens=2)
        with tempfile.TemporaryDirectory(dir=data_dir, prefix="warmup-") as log_dir:
            task = Task(
                dataset=[Sample(input="ok?", target="ok")],
                solver=generate(),
                scorer=match(),
                name="warmup",
            )
            eval(task, model="mockllm/model", model_args={"custom_outputs": [out]}, log_dir=log_dir,
                 display="none", ctl_server=False, log_samples=False)  # fmt: skip
    except Exception:
        traceback.print_exc()
    finally:
        _forget_models()


# -- the serving loop ------------------------------------------------------------------


def _request_waiting() -> bool:
    """Whether a request is already waiting on stdin (then warming up would only delay it)."""
    if os.name != "posix":
        return False
    import select

    return bool(select.select([sys.stdin], [], [], 0)[0])


class _IdleTimer:
    """Exits the process when no request arrived for ``seconds``."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self._timer: threading.Timer | None = None

    def reset(self) -> None:
        self.cancel()
        if self.seconds > 0:
            self._timer = threading.Timer(self.seconds, os._exit, args=(0,))
            self._timer.daemon = True
            self._timer.start()

    def cancel(self) -> None:
        if self._timer is not None:
            self._timer.cancel()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m motools_inspect.worker")
    ap.add_argument("--data", required=True, help="Inspect data directory")
    ap.add_argument("--cache", required=True, help="Inspect cache directory")
    ap.add_argument("--idle-timeout", type=float, default=600.0)
    ap.add_argument("--max-evals", type=int, default=20)
    args = ap.parse_args(argv)

    proto = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
    os.dup2(2, 1)  # prints (by Inspect or a task) go to stderr, never into the protocol
    redirect_inspect_dirs(args.data, args.cache)
    import inspect_ai  # noqa: F401  (seconds; paid once per worker)

    if not _request_waiting():
        warm_up(args.data)

    proto.write(
        json.dumps({"ready": True, "pid": os.getpid(), "protocol": PROTOCOL_VERSION}) + "\n"
    )
    idle = _IdleTimer(args.idle_timeout)
    idle.reset()
    served = 0
    for line in sys.stdin:
        if not line.strip():
            continue
        idle.cancel()
        resp = run_request(json.loads(line))
        served += 1
        resp["retire"] = served >= args.max_evals
        proto.write(json.dumps(resp, default=str) + "\n")
        if resp["retire"]:
            return 0
        idle.reset()
    return 0


if __name__ == "__main__":
    sys.exit(main())
