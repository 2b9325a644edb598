"""The ``hflocal`` Inspect provider: thread-safe single load, greedy batched generation."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest


def test_concurrent_loads_share_one_model_with_tied_weights(store: Any) -> None:
    from inspect_ai.model import GenerateConfig, get_model

    import motools_hf._inspect_registry  # noqa: F401  (entry point; explicit for clarity)

    models: list[Any] = []
    errors: list[BaseException] = []

    def load() -> None:
        try:
            models.append(get_model("hflocal/tiny", memoize=False))
        except BaseException as e:  # surfaced below
            errors.append(e)

    threads = [threading.Thread(target=load) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    loaded = {id(m.api.loaded) for m in models}
    assert len(loaded) == 1, "the weights must be loaded once per process"
    hf_model = models[0].api.loaded.model
    assert hf_model.lm_head.weight.data_ptr() == hf_model.model.embed_tokens.weight.data_ptr()

    async def ask_all() -> list[Any]:
        prompts = [f"prompt number {i}" for i in range(6)]
        cfg = GenerateConfig(max_tokens=8, temperature=0)
        return list(
            await asyncio.gather(
                *(models[i % 4].generate(p, config=cfg) for i, p in enumerate(prompts))
            )
        )

    first, second = asyncio.run(ask_all()), asyncio.run(ask_all())
    assert [o.completion for o in first] == [o.completion for o in second], (
        "greedy decoding is deterministic"
    )
    for o in first:
        assert o.usage.input_tokens > 0 and 0 < o.usage.output_tokens <= 8
        assert o.stop_reason in ("stop", "max_tokens")


def test_unknown_model_and_args_are_clear_errors(store: Any) -> None:
    from inspect_ai.model import get_model

    import motools_hf._inspect_registry  # noqa: F401

    with pytest.raises(ValueError, match=r"hflocal/org/hub-model: .*never downloads"):
        get_model("hflocal/org/hub-model", memoize=False)
    with pytest.raises(ValueError, match=r"unknown model_args \['do_sample'\]"):
        get_model("hflocal/tiny", memoize=False, do_sample=True)
