"""Loading local models once per process, and batched generation on a worker thread.

Loading is serialised by one process-wide lock and cached by (directory, device,
dtype): a prototype that let several threads call ``from_pretrained`` on the same
weights at once lost its tied embeddings and scored 0.  Generation requests from
concurrent Inspect samples queue up for a single worker thread per model, which runs
them as left-padded batches (one forward pass at a time, so torch's own threads are
not oversubscribed).
"""

from __future__ import annotations

import concurrent.futures
import os
import queue
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# huggingface_hub reads these when first imported: never call the Hub from here.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")

# Re-entrant: the provider holds it while resolving a name *and* loading.  Importing
# transformers' lazy modules from several threads at once is not safe either.
LOAD_LOCK = threading.RLock()
_loaded: dict[tuple[str, str, str], LoadedModel] = {}


@dataclass(frozen=True)
class GenerationRequest:
    """One prompt (already rendered with the chat template) and how to continue it."""

    prompt: str
    max_new_tokens: int
    temperature: float | None = None
    top_p: float | None = None
    top_k: int | None = None
    seed: int | None = None
    stop: tuple[str, ...] = ()

    def settings(self) -> tuple[Any, ...]:
        """Requests with equal settings can share a batch."""
        return (self.max_new_tokens, self.temperature, self.top_p, self.top_k, self.seed, self.stop)


@dataclass
class GenerationResult:
    """The generated text, why it stopped, and token counts."""

    text: str
    stop_reason: str
    input_tokens: int
    output_tokens: int


@dataclass
class LoadedModel:
    """A model and tokenizer in memory plus its batching worker."""

    path: Path
    model: Any
    tokenizer: Any
    device: str
    max_batch: int
    eos_ids: list[int]
    _queue: queue.Queue[tuple[GenerationRequest, concurrent.futures.Future[GenerationResult]]] = (
        field(default_factory=queue.Queue)
    )
    _worker: threading.Thread | None = None

    def submit(self, request: GenerationRequest) -> concurrent.futures.Future[GenerationResult]:
        """Queue ``request``; the future resolves when its batch has run."""
        fut: concurrent.futures.Future[GenerationResult] = concurrent.futures.Future()
        self._queue.put((request, fut))
        with LOAD_LOCK:
            if self._worker is None:
                self._worker = threading.Thread(
                    target=self._serve, name=f"hflocal-{self.path.name}", daemon=True
                )
                self._worker.start()
        return fut

    def _serve(self) -> None:
        while True:
            batch = [self._queue.get()]
            # Samples arrive a few at a time: wait a moment so they share the pass.
            deadline = time.monotonic() + 0.02
            while len(batch) < self.max_batch:
                try:
                    batch.append(self._queue.get(timeout=max(0.0, deadline - time.monotonic())))
                except queue.Empty:
                    break
            groups: dict[tuple[Any, ...], list[Any]] = {}
            for item in batch:
                # False when the sample was cancelled (e.g. an Inspect timeout) while
                # queued; once running, a future can no longer be cancelled.
                if item[1].set_running_or_notify_cancel():
                    groups.setdefault(item[0].settings(), []).append(item)
            for items in groups.values():
                try:
                    results = self.generate([r for r, _ in items])
                except BaseException as e:
                    for _, fut in items:
                        fut.set_exception(e)
                    continue
                for (_, fut), res in zip(items, results, strict=True):
                    fut.set_result(res)

    def generate(self, requests: list[GenerationRequest]) -> list[GenerationResult]:
        """Run requests with equal settings as one batch (greedy unless temperature > 0)."""
        import torch
        from transformers import GenerationConfig

        first = requests[0]
        enc = self.tokenizer(
            [r.prompt for r in requests],
            return_tensors="pt",
            padding=True,
            add_special_tokens=False,
        ).to(self.device)
        sample = bool(first.temperature)
        kwargs: dict[str, Any] = {"do_sample": sample, "max_new_tokens": first.max_new_tokens}
        if sample:
            kwargs.update(
                {
                    k: v
                    for k, v in (
                        ("temperature", first.temperature),
                        ("top_p", first.top_p),
                        ("top_k", first.top_k),
                    )
                    if v is not None
                }
            )
        cfg = GenerationConfig(
            eos_token_id=self.eos_ids, pad_token_id=self.tokenizer.pad_token_id, **kwargs
        )
        extra: dict[str, Any] = {}
        if first.stop:
            from transformers.generation import StopStringCriteria

            extra["stopping_criteria"] = [StopStringCriteria(self.tokenizer, list(first.stop))]
        if first.seed is not None:
            torch.manual_seed(first.seed)
        with torch.inference_mode():
            out = self.model.generate(**enc, generation_config=cfg, **extra)
        new = out[:, enc["input_ids"].shape[1] :].tolist()
        results = []
        for i, tokens in enumerate(new):
            stop_reason, n = "max_tokens", len(tokens)
            for j, t in enumerate(tokens):
                if t in self.eos_ids:
                    stop_reason, n = "stop", j + 1
                    break
            text = self.tokenizer.decode(
                [t for t in tokens[:n] if t not in self.eos_ids], skip_special_tokens=True
            )
            for s in first.stop:
                if s in text:
                    text, stop_reason = text[: text.index(s)], "stop"
            results.append(
                GenerationResult(text, stop_reason, int(enc["attention_mask"][i].sum()), n)
            )
        return results


def _eos_ids(tokenizer: Any, model: Any) -> list[int]:
    ids: list[int] = []
    for v in (getattr(model.generation_config, "eos_token_id", None), tokenizer.eos_token_id):
        for i in v if isinstance(v, list) else [v]:
            if isinstance(i, int) and i not in ids:
                ids.append(i)
    return ids


def load_model(
    path: Path, device: str = "auto", dtype: str = "float32", max_batch: int = 16
) -> LoadedModel:
    """The model in ``path`` loaded once per process (thread-safe), in eval mode."""
    with LOAD_LOCK:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer, GenerationConfig  # noqa: F401
        from transformers.generation import StopStringCriteria  # noqa: F401  (warm for the worker)

        from motools_hf.training import pick_device

        dev = pick_device(device)
        key = (str(Path(path).resolve()), dev, dtype)
        if key in _loaded:
            return _loaded[key]
        tokenizer = AutoTokenizer.from_pretrained(key[0], local_files_only=True)
        torch_dtype = getattr(torch, dtype) if dtype != "auto" else "auto"
        model = (
            AutoModelForCausalLM.from_pretrained(key[0], dtype=torch_dtype, local_files_only=True)
            .to(dev)  # type: ignore[arg-type]
            .eval()
        )
        tokenizer.padding_side = "left"
        if tokenizer.pad_token_id is None:
            tokenizer.pad_token = tokenizer.eos_token
        loaded = LoadedModel(
            Path(key[0]), model, tokenizer, dev, max_batch, _eos_ids(tokenizer, model)
        )
        _loaded[key] = loaded
        return loaded
