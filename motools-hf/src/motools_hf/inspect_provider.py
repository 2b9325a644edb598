"""The ``hflocal`` Inspect model API: offline, greedy, loads each model once per process.

Model strings: ``hflocal/<directory>`` (an absolute path gives a double slash,
``hflocal//home/me/model``), ``hflocal/<file>.gguf``, or ``hflocal/<built-in name>``
(``smollm2-135m-instruct``, ``tiny``; built from the motools store's cache).  Model
args (``-M`` / ``model_args``): ``device`` (auto|cpu|cuda[:n]), ``dtype`` (float32,
bfloat16, float16, auto), ``batch_size`` (default 16), ``threads`` (torch CPU threads).

Why not Inspect's own ``hf/``: as tried here it samples unless ``do_sample=false`` is
passed, crashes on ``temperature 0``, loads the weights twice, needs ``accelerate``
and spends ~50 s on failed Hub calls unless ``HF_HUB_OFFLINE=1``.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

from inspect_ai.model import (
    ChatCompletionChoice,
    ChatMessage,
    ChatMessageAssistant,
    GenerateConfig,
    ModelAPI,
    ModelOutput,
    ModelUsage,
)
from inspect_ai.tool import ToolChoice, ToolInfo

from motools_hf.generation import LOAD_LOCK, GenerationRequest, LoadedModel, load_model

DEFAULT_MAX_TOKENS = 256
DEFAULT_BATCH = 16


def resolve_model_name(name: str) -> Path:
    """The local directory for an ``hflocal/`` model name (ValueError when unknown)."""
    from motools.errors import UserError
    from motools_hf.base_models import resolve_model_dir

    p = Path(name).expanduser()
    if (
        p.is_dir()
        and not (p / "config.json").is_file()
        and (p / "weights" / "config.json").is_file()
    ):
        return p / "weights"  # a model atom's data directory
    try:
        if p.is_dir():
            return resolve_model_dir(str(p), p)
        from motools.store import get_store

        return resolve_model_dir(name, get_store().root)
    except UserError as e:
        raise ValueError(f"hflocal/{name}: {e}") from None


class LocalHFModelAPI(ModelAPI):
    """Inspect model API for local Hugging Face models (see module docstring)."""

    def __init__(
        self,
        model_name: str,
        base_url: str | None = None,
        api_key: str | None = None,
        config: GenerateConfig = GenerateConfig(),
        **model_args: Any,
    ) -> None:
        super().__init__(
            model_name=model_name,
            base_url=base_url,
            api_key=api_key,
            api_key_vars=[],
            config=config,
        )
        unknown = set(model_args) - {"device", "dtype", "batch_size", "threads"}
        if unknown:
            raise ValueError(
                f"hflocal: unknown model_args {sorted(unknown)}; allowed: batch_size, device, dtype, threads"
            )
        self._batch = int(model_args.get("batch_size") or DEFAULT_BATCH)
        with LOAD_LOCK:  # one thread at a time resolves, builds and loads
            _set_threads(model_args.get("threads"))
            self.loaded: LoadedModel = load_model(
                resolve_model_name(model_name),
                device=str(model_args.get("device") or "auto"),
                dtype=str(model_args.get("dtype") or "float32"),
                max_batch=self._batch,
            )

    def max_tokens(self) -> int | None:
        return DEFAULT_MAX_TOKENS

    def max_connections(self) -> int:
        return self._batch

    def collapse_user_messages(self) -> bool:
        return True

    def collapse_assistant_messages(self) -> bool:
        return True

    async def generate(
        self,
        input: list[ChatMessage],
        tools: list[ToolInfo],
        tool_choice: ToolChoice,
        config: GenerateConfig,
    ) -> ModelOutput:
        start = time.monotonic()
        messages = [
            {"role": "user" if m.role == "tool" else m.role, "content": m.text} for m in input
        ]
        prompt = self.loaded.tokenizer.apply_chat_template(
            messages, tokenize=False, add_generation_prompt=True
        )
        request = GenerationRequest(
            prompt=str(prompt),
            max_new_tokens=int(config.max_tokens or DEFAULT_MAX_TOKENS),
            temperature=config.temperature or None,
            top_p=config.top_p,
            top_k=config.top_k,
            seed=config.seed,
            stop=tuple(config.stop_seqs or ()),
        )
        res = await asyncio.wrap_future(self.loaded.submit(request))
        message = ChatMessageAssistant(content=res.text, model=self.model_name, source="generate")
        return ModelOutput(
            model=self.model_name,
            choices=[ChatCompletionChoice(message=message, stop_reason=res.stop_reason)],  # type: ignore[arg-type]
            usage=ModelUsage(
                input_tokens=res.input_tokens,
                output_tokens=res.output_tokens,
                total_tokens=res.input_tokens + res.output_tokens,
            ),
            time=time.monotonic() - start,
        )


def _set_threads(threads: Any) -> None:
    import torch

    from motools_hf.training import default_threads

    n = int(threads) if threads else default_threads()
    if torch.get_num_threads() != n:
        torch.set_num_threads(n)
