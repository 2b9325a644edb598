"""Scripted ``mockllm/model`` outputs as plain JSON (what a config or atom metadata can hold)."""

from __future__ import annotations

from typing import Any


def mock_outputs(
    content: str, n: int, input_tokens: int = 7, output_tokens: int = 2
) -> list[dict[str, Any]]:
    """``n`` mockllm outputs answering ``content``, each with explicit ``usage``.

    Explicit usage matters: without it mockllm counts tokens with tiktoken, which
    downloads its encoding file (no network in tests).
    """
    out = {
        "model": "mockllm/model",
        "choices": [{"message": {"role": "assistant", "content": content}, "stop_reason": "stop"}],
        "usage": {
            "input_tokens": input_tokens,
            "output_tokens": output_tokens,
            "total_tokens": input_tokens + output_tokens,
        },
    }
    return [out for _ in range(n)]
