"""Which ``eval_kwargs`` pass through to ``inspect_ai.eval`` (checked without importing it).

The allowed keys are ``inspect_ai.eval``'s keyword arguments plus the fields of
``GenerateConfig`` (``temperature``, ``max_tokens``, ``seed``, ``max_connections``, ...),
minus the ones this backend sets itself.  The lists below were taken from inspect-ai
``LISTED_VERSION``; when another version is installed, a key missing from them is looked
up in the installed Inspect's signature before it is rejected, so a newer Inspect's new
arguments work without a motools release.
"""

from __future__ import annotations

import difflib
import json
from functools import lru_cache
from typing import Any

from motools.errors import ConfigError

LISTED_VERSION = "0.3.285"

EVAL_ARGS = frozenset({
    "acp_server", "approval", "checkpoint", "continue_on_fail", "cost_limit", "ctl_server", "debug_errors",
    "epochs", "fail_on_error", "limit", "log_buffer", "log_images", "log_level",
    "log_level_transcript", "log_model_api", "log_realtime", "log_refusals", "log_samples",
    "log_shared", "max_dataset_memory", "max_samples", "max_sandboxes", "max_subprocesses",
    "max_tasks", "message_limit", "metadata", "model_args", "model_cost_config", "model_roles",
    "notification", "retry_on_error", "review", "sample_id", "sample_shuffle", "sandbox",
    "sandbox_cleanup", "sandbox_prebuilt", "score", "score_display", "score_on_error",
    "sentinel", "tags", "task_args", "task_retry_attempts", "time_limit", "token_limit",
    "turn_limit", "working_limit",
})  # fmt: skip

GENERATE_CONFIG_ARGS = frozenset({
    "adaptive_connections", "attempt_timeout", "batch", "best_of", "cache", "cache_prompt",
    "effort", "extra_body", "extra_headers", "fail_on_refusal", "fallback_models",
    "frequency_penalty", "internal_tools", "logit_bias", "logprobs", "max_connections",
    "max_retries", "max_tokens", "max_tool_output", "modalities", "num_choices",
    "parallel_tool_calls", "presence_penalty", "prompt_logprobs", "reasoning_effort",
    "reasoning_history", "reasoning_mode", "reasoning_summary", "reasoning_tokens",
    "response_schema", "seed", "stop_seqs", "stream_idle_timeout", "system_message",
    "temperature", "timeout", "top_k", "top_logprobs", "top_p", "verbosity",
})  # fmt: skip

# Set by the backend (from the model atom and the store), or not expressible as JSON.
RESERVED = {
    "tasks": "the task comes from the step's 'eval_task'",
    "model": "the model comes from the model atom (see docs/backends/inspect.md, 'Model mapping')",
    "model_base_url": "the base URL comes from the model atom's 'endpoint' metadata",
    "log_dir": "logs are written into the eval atom",
    "log_format": "logs are always written in Inspect's native '.eval' format",
    "log_header_only": "the backend reads complete logs",
    "display": "evaluations run in background workers without a terminal display",
    "trace": "evaluations run in background workers without a terminal display",
    "run_samples": "an evaluation without samples has no results",
    "solver": "a Solver object cannot be given in a config; write a task that uses it",
    "scanner": "a Scanner object cannot be given in a config; write a task that uses it",
    "eval_set_id": "internal to Inspect's eval_set",
    "eval_set_tasks": "internal to Inspect's eval_set",
    "scan_id": "internal to Inspect",
}

ALLOWED = EVAL_ARGS | GENERATE_CONFIG_ARGS


@lru_cache(maxsize=1)
def installed_inspect_args() -> frozenset[str]:
    """Keyword arguments of the installed ``inspect_ai.eval`` plus ``GenerateConfig`` fields."""
    import inspect as pyinspect

    from inspect_ai import eval as inspect_eval
    from inspect_ai.model import GenerateConfig

    params = {
        p
        for p, v in pyinspect.signature(inspect_eval).parameters.items()
        if v.kind != v.VAR_KEYWORD
    }
    return frozenset(params | set(GenerateConfig.model_fields))


def validate_eval_kwargs(eval_kwargs: Any, where: str = "eval_kwargs") -> None:
    """Raise :class:`ConfigError` for a reserved or unknown key, or a value that is not JSON."""
    if not isinstance(eval_kwargs, dict):
        raise ConfigError(
            f"{where}: expected a mapping of inspect_ai.eval keyword arguments, got {type(eval_kwargs).__name__}"
        )
    for key, value in eval_kwargs.items():
        if key in RESERVED:
            raise ConfigError(f"{where}.{key}: cannot be set: {RESERVED[key]}")
        if key not in ALLOWED and key not in _installed_or_empty():
            hint = difflib.get_close_matches(str(key), sorted(ALLOWED), n=1)
            raise ConfigError(
                f"{where}.{key}: unknown inspect_ai.eval argument"
                + (f" (did you mean '{hint[0]}'?)" if hint else "")
                + "; allowed: inspect_ai.eval keyword arguments such as limit, epochs, task_args, "
                "model_args, fail_on_error, and GenerateConfig fields such as temperature, max_tokens, "
                "seed, max_connections"
            )
        try:
            json.dumps(value)
        except (TypeError, ValueError):
            raise ConfigError(
                f"{where}.{key}: value must be plain data (JSON), got {type(value).__name__}"
            ) from None
    for key in ("model_args", "task_args"):
        if key in eval_kwargs and not isinstance(eval_kwargs[key], dict | str):
            raise ConfigError(f"{where}.{key}: expected a mapping (or a path to a JSON/YAML file)")


def _installed_or_empty() -> frozenset[str]:
    """The installed Inspect's arguments, unless the static lists describe that very version."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        if version("inspect-ai") == LISTED_VERSION:
            return frozenset()
        return installed_inspect_args() - set(RESERVED)
    except (ImportError, PackageNotFoundError):
        return frozenset()
