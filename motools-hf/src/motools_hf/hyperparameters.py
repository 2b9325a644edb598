"""Validated hyperparameters and options of the ``hf`` backend (pydantic, unknown keys rejected).

Hyperparameters change the trained weights and so are part of the step's cache key;
options (threads, device, checkpoint interval) only change how the job runs.
"""

from __future__ import annotations

import difflib
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from motools.errors import ConfigError

DEFAULT_LR = {"lora": 1e-3, "full": 1e-5}


class HFHyperparameters(BaseModel):
    """Training hyperparameters; ``"auto"`` means the default for any of them."""

    model_config = ConfigDict(extra="forbid")

    n_epochs: int = Field(3, ge=1, le=10_000, description="passes over the dataset")
    learning_rate: float | None = Field(
        None, gt=0, le=1, description="peak learning rate; default 1e-3 (lora) or 1e-5 (full)"
    )
    batch_size: int = Field(8, ge=1, le=65_536, description="examples per optimizer step")
    lora_rank: int = Field(8, ge=1, le=4096, description="LoRA rank r (method lora)")
    lora_alpha: float | None = Field(
        None, gt=0, description="LoRA scaling alpha; default 2 x lora_rank"
    )
    max_seq_len: int = Field(1024, ge=8, le=1_000_000, description="longer examples are truncated")
    method: Literal["lora", "full"] = Field(
        "lora", description="LoRA adapters (merged into the saved weights) or full fine-tuning"
    )
    seed: int = Field(0, description="seeds weight init of adapters and the data order")


class HFOptions(BaseModel):
    """How the job runs (not part of the cache key)."""

    model_config = ConfigDict(extra="forbid")

    threads: int | None = Field(
        None,
        ge=1,
        le=1024,
        description="torch CPU threads; default: MOTOOLS_HF_THREADS or 1 on machines with 2 cores or fewer",
    )
    device: str = Field(
        "auto",
        pattern=r"^(auto|cpu|cuda(:\d+)?|mps)$",
        description="auto: cuda when available, else cpu",
    )
    checkpoint_every_steps: int = Field(
        50, ge=1, description="also checkpointed at every epoch end"
    )


def _format(e: ValidationError, prefix: str, model: type[BaseModel]) -> str:
    allowed = sorted(model.model_fields)
    parts = []
    for err in e.errors():
        loc = ".".join(str(x) for x in err["loc"])
        if err["type"] == "extra_forbidden":
            close = difflib.get_close_matches(str(err["loc"][-1]), allowed, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            parts.append(f"{prefix}.{loc}: unknown key{hint}; allowed: {', '.join(allowed)}")
        else:
            parts.append(f"{prefix}.{loc}: {err['msg']} (got {err.get('input')!r})")
    return "; ".join(parts)


def validate_hyperparameters(raw: dict[str, Any]) -> dict[str, Any]:
    """Return every hyperparameter with defaults resolved, or raise ConfigError."""
    if not isinstance(raw, dict):
        raise ConfigError(f"hyperparameters: expected a mapping, got {type(raw).__name__}")
    data = {k: v for k, v in raw.items() if v != "auto"}
    try:
        hp = HFHyperparameters.model_validate(data)
    except ValidationError as e:
        raise ConfigError(_format(e, "hyperparameters", HFHyperparameters)) from None
    out = hp.model_dump()
    if out["learning_rate"] is None:
        out["learning_rate"] = DEFAULT_LR[hp.method]
    if out["lora_alpha"] is None:
        out["lora_alpha"] = float(2 * hp.lora_rank)
    if hp.method == "full":
        # LoRA settings mean nothing for full fine-tuning; dropping them keeps equal
        # trainings equal.
        out.pop("lora_rank")
        out.pop("lora_alpha")
    return out


def validate_options(raw: dict[str, Any] | None) -> dict[str, Any]:
    """Return the options with defaults, or raise ConfigError."""
    try:
        return HFOptions.model_validate(raw or {}).model_dump()
    except ValidationError as e:
        raise ConfigError(_format(e, "options", HFOptions)) from None
