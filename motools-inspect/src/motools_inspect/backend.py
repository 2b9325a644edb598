"""The ``inspect`` evaluation backend: runs any Inspect task on a motools model atom.

Importing this module does not import Inspect: validation is static, and evaluations
run in worker processes (:mod:`motools_inspect.worker_pool`).
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from pathlib import Path
from typing import Any

from motools.backends import EvalBackend, EvalResult
from motools.errors import ConfigError, UserError
from motools.workflow.config import redact
from motools_inspect.errors import EvalFailed
from motools_inspect.eval_kwargs import validate_eval_kwargs
from motools_inspect.model_mapping import InspectModel, inspect_model_for
from motools_inspect.store_dirs import InspectDirs
from motools_inspect.task_refs import parse_task_ref
from motools_inspect.worker_pool import get_pool

USAGE_FIELDS = ("input_tokens", "output_tokens", "total_tokens", "input_tokens_cache_write",
                "input_tokens_cache_read", "reasoning_tokens")  # fmt: skip


class InspectBackend(EvalBackend):
    """Evaluate a model atom on an Inspect task; every scorer's metrics are kept."""

    name = "inspect"

    def validate(self, task: str, eval_kwargs: dict[str, Any]) -> None:
        """Raise ConfigError for a task reference that cannot resolve or a bad eval_kwargs key."""
        parse_task_ref(task)
        validate_eval_kwargs(eval_kwargs)

    async def evaluate(
        self, model: Any, task: str, eval_kwargs: dict[str, Any], output_dir: Path
    ) -> EvalResult:
        """Run ``task`` on ``model`` in a worker; the ``.eval`` logs are written to ``output_dir``."""
        ref = parse_task_ref(task)
        validate_eval_kwargs(eval_kwargs)
        target = inspect_model_for(model)
        kwargs = dict(eval_kwargs)
        model_args = _merge_model_args(target, kwargs.pop("model_args", None))
        dirs = InspectDirs.for_store(model.store.root).ensure()
        output_dir = Path(output_dir).resolve()
        env = _worker_env(target, output_dir)
        request = {
            "task": ref.to_json(),
            "model": target.model,
            "model_base_url": target.base_url,
            "model_args": model_args,
            "eval_kwargs": kwargs,
            "log_dir": str(output_dir),
            "env": env,
            "sys_path": _import_roots(),
        }
        t0 = time.perf_counter()
        resp = await get_pool(dirs).run(request)
        duration = time.perf_counter() - t0
        if not resp.get("ok"):
            tb = "\n".join(str(resp.get("traceback") or "").strip().splitlines()[-12:])
            raise EvalFailed(
                redact(
                    f"Inspect could not run task {task!r} on {target.model}: {resp.get('error')}\n{tb}"
                )
            )
        logs = resp["logs"]
        if not logs:
            raise EvalFailed(f"Inspect ran no task for {task!r}")
        for log in logs:
            if log["status"] != "success":
                kept = _keep_failed_log(Path(log["location"]), dirs)
                raise EvalFailed(
                    redact(f"Inspect evaluation of task {log['task']!r} on {target.model} ended with status "
                           f"{log['status']!r}: {log.get('error') or 'no error message'}"),
                    log_path=str(kept) if kept else log["location"],
                )  # fmt: skip
        return _eval_result(logs, resp, target, duration, output_dir)


def _merge_model_args(target: InspectModel, from_kwargs: Any) -> dict[str, Any] | str:
    """The atom's model args overlaid with ``eval_kwargs.model_args`` (which win)."""
    if from_kwargs is None:
        return dict(target.model_args)
    if isinstance(from_kwargs, str):  # a JSON/YAML file Inspect reads itself
        if target.model_args:
            raise ConfigError(
                "eval_kwargs.model_args: a file path cannot be combined with the model atom's inspect_model_args; give a mapping"
            )
        return from_kwargs
    return {**target.model_args, **from_kwargs}


def _worker_env(target: InspectModel, output_dir: Path) -> dict[str, str]:
    """This process's environment as Inspect should see it for this evaluation."""
    env = dict(os.environ)
    env["INSPECT_LOG_DIR"] = str(output_dir)
    for var, source in target.env_from.items():
        if not os.environ.get(source):
            raise UserError(
                f"the model's endpoint reads its API key from ${source}, which is not set"
            )
        env[var] = os.environ[source]
    return env


def _import_roots() -> list[str]:
    """This process's import path, so a worker imports task modules the way we do."""
    return [os.getcwd() if p == "" else p for p in sys.path]


def _keep_failed_log(location: Path, dirs: InspectDirs) -> Path | None:
    """Copy an errored log out of the step workspace (deleted when the step fails)."""
    if not location.is_file():
        return None
    dst = dirs.failed / location.name
    shutil.copy2(location, dst)
    return dst


def _sum_usage(logs: list[dict[str, Any]]) -> dict[str, dict[str, int]]:
    total: dict[str, dict[str, int]] = {}
    for log in logs:
        for model_name, usage in log["usage"].items():
            acc = total.setdefault(model_name, {})
            for k in USAGE_FIELDS:
                if usage.get(k) is not None:
                    acc[k] = acc.get(k, 0) + int(usage[k])
    return total


def _eval_result(
    logs: list[dict[str, Any]],
    resp: dict[str, Any],
    target: InspectModel,
    duration: float,
    output_dir: Path,
) -> EvalResult:
    results: dict[str, dict[str, dict[str, float]]] = {}
    samples: dict[str, int] = {}
    tasks_meta = []
    for log in logs:
        name = log["task"]
        n = 2
        while name in results:  # the same task twice in one file: keep both
            name, n = f"{log['task']}#{n}", n + 1
        results[name] = log["scores"]
        samples[name] = log["completed_samples"]
        tasks_meta.append({
            "task": name,
            "log_file": Path(log["location"]).name,
            "total_samples": log["total_samples"],
            "completed_samples": log["completed_samples"],
            "started_at": log["started_at"],
            "completed_at": log["completed_at"],
            "eval_id": log["eval_id"],
            "task_args": log["task_args"],
        })  # fmt: skip
    meta = {
        "inspect_model": target.model,
        "inspect_version": resp.get("inspect_version"),
        "inspect_run_id": logs[0]["run_id"],
        "tasks": tasks_meta,
    }
    if target.base_url:
        meta["model_base_url"] = target.base_url
    return EvalResult(
        results=results,
        samples=samples,
        usage=_sum_usage(logs),
        duration=duration,
        log_dir=output_dir,
        metadata=meta,
    )
