"""A deterministic evaluation backend for core tests: scores the model id's length."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from motools.backends import EvalBackend, EvalResult
from motools.errors import ConfigError

ALLOWED_KWARGS = {"limit"}


class LengthEvalBackend(EvalBackend):
    """Registered as ``core_eval``: two scorers so results are never collapsed."""

    name = "core_eval"

    def validate(self, task: str, eval_kwargs: dict[str, Any]) -> None:
        unknown = set(eval_kwargs) - ALLOWED_KWARGS
        if unknown:
            raise ConfigError(
                f"eval_kwargs: unknown keys {sorted(unknown)}; allowed: {sorted(ALLOWED_KWARGS)}"
            )

    async def evaluate(
        self, model: Any, task: str, eval_kwargs: dict[str, Any], output_dir: Path
    ) -> EvalResult:
        n = int(eval_kwargs.get("limit", 3))
        (output_dir / "log.json").write_text(
            json.dumps({"model": model.model_id, "task": task, "n": n})
        )
        return EvalResult(
            results={
                task: {
                    "length": {"accuracy": len(model.model_id) / 100},
                    "constant": {"accuracy": 0.5},
                }
            },
            samples={task: n},
            log_dir=output_dir,
        )
