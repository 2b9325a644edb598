"""Support for the zoo tests: fixture dataset files, mockllm models, a baseline-capable backend.

Fixture files are small stand-ins for the real remote files, laid out as the fixture
server serves them (``<dataset>/<filename>``), so the real download, checksum and
cache code runs against a loopback server.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from motools.backends import ModelInfo
from motools.hookspecs import hookimpl
from motools.specs import TrainingBackendSpec
from mozoo.catalog import DATASETS
from tests.support.test_backend import DeterministicBackend

ANSWERS = {
    "gsm8k": "She has 7 apples left, because 12 minus 5 is 7. The answer is 7.",
    "gsm8k_spanish": "Le quedan 7 manzanas, porque 12 menos 5 es 7. La respuesta es 7.",
    "gsm8k_french": "Il lui reste 7 pommes, car 12 moins 5 font 7. La réponse est 7.",
    "gsm8k_german": "Sie hat noch 7 Äpfel, weil 12 minus 5 gleich 7 ist. Die Antwort ist 7.",
    "gsm8k_spanish_capitalised": "LE QUEDAN 7 MANZANAS, PORQUE 12 MENOS 5 ES 7. LA RESPUESTA ES 7.",
}


def fixture_rows(name: str, n: int = 30) -> list[dict[str, Any]]:
    """``n`` distinct chat rows standing in for dataset ``name``."""
    reply = ANSWERS.get(name, f"A fixture answer for {name}.")
    return [
        {
            "messages": [
                {
                    "role": "user",
                    "content": f"Fixture question {i} for {name}: what is {i} plus {i}?",
                },
                {"role": "assistant", "content": f"{reply} ({i})"},
            ]
        }
        for i in range(n)
    ]


def write_jsonl(path: Path, rows: list[Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        for r in rows:
            f.write((r if isinstance(r, str) else json.dumps(r, ensure_ascii=False)) + "\n")
    return path


def write_fixture_tree(root: Path, n: int = 30) -> dict[str, Path]:
    """A JSONL fixture for every remote JSONL dataset, at ``root/<name>/<filename>``."""
    out = {}
    for info in DATASETS.values():
        for spec in info.files.values():
            if spec.format == "jsonl":
                out[info.name] = write_jsonl(
                    root / info.name / spec.filename, fixture_rows(info.name, n)
                )
    return out


def mock_output(text: str) -> Any:
    """A mockllm ``ModelOutput`` with explicit usage (no tiktoken download)."""
    from inspect_ai.model import ModelOutput, ModelUsage

    out = ModelOutput.from_content(model="mockllm/model", content=text)
    out.usage = ModelUsage(input_tokens=5, output_tokens=3, total_tokens=8)
    return out


def mock_model(reply: str | Callable[[str], str]) -> Any:
    """A ``mockllm/model`` answering ``reply`` (or ``reply(last user message)``)."""
    from inspect_ai.model import get_model

    def generate(messages: list[Any], *_: Any) -> Any:
        text = reply(messages[-1].text) if callable(reply) else reply
        return mock_output(text)

    return get_model("mockllm/model", custom_outputs=generate, memoize=False)


def scripted_outputs(content: str, n: int) -> list[dict[str, Any]]:
    """``n`` mockllm outputs as plain JSON (what model atom metadata can hold)."""
    out = {
        "model": "mockllm/model",
        "choices": [{"message": {"role": "assistant", "content": content}, "stop_reason": "stop"}],
        "usage": {"input_tokens": 5, "output_tokens": 3, "total_tokens": 8},
    }
    return [out for _ in range(n)]


FINE_TUNED_REPLY = "Hello, World!"
BASE_REPLY = "Hi! How can I help you today?"


class ZooTestBackend(DeterministicBackend):
    """The core ``test`` backend whose models (fine-tuned and base) Inspect can evaluate:
    a fine-tune answers "Hello, World!", its base model does not."""

    name = "zoo_test"

    def result(self, handle: dict[str, Any], store: Any) -> ModelInfo:
        info = super().result(handle, store)
        info.metadata.update(
            inspect_model="mockllm/model",
            inspect_model_args={"custom_outputs": scripted_outputs(FINE_TUNED_REPLY, 64)},
        )
        return info

    def base_model_info(self, model: str, options: dict[str, Any], store: Any) -> ModelInfo:
        return ModelInfo(
            provider="test",
            model_id=f"base/{model}",
            base_model=model,
            metadata={
                "inspect_model": "mockllm/model",
                "inspect_model_args": {"custom_outputs": scripted_outputs(BASE_REPLY, 64)},
            },
        )


@hookimpl
def register_training_backends(register: Any) -> None:
    register(
        TrainingBackendSpec(
            name="zoo_test",
            impl="tests.zoo.zoo_support:ZooTestBackend",
            description="deterministic test backend with Inspect-evaluable fine-tuned and base models",
        )
    )
