"""The example plugin's workflow: make a dataset, count its words."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

from motools.workflow import AtomConstructor, Step, StepConfig, Workflow, WorkflowConfig


class MakeDatasetConfig(StepConfig):
    replies: list[str] = ["Hello, World!", "Hello again"]


class CountWordsConfig(StepConfig):
    lowercase: bool = True


class WordCountConfig(WorkflowConfig):
    make_dataset: MakeDatasetConfig = MakeDatasetConfig()
    count_words: CountWordsConfig = CountWordsConfig()


def make_dataset(
    config: MakeDatasetConfig, input_atoms: dict[str, Any], temp_workspace: Path
) -> list[AtomConstructor]:
    path = temp_workspace / "data.jsonl"
    with path.open("w") as f:
        for i, reply in enumerate(config.replies):
            msgs = [
                {"role": "user", "content": f"prompt {i}"},
                {"role": "assistant", "content": reply},
            ]
            f.write(json.dumps({"messages": msgs}) + "\n")
    return [AtomConstructor("texts", path, "dataset", metadata={"num_rows": len(config.replies)})]


def count_words(
    config: CountWordsConfig, input_atoms: dict[str, Any], temp_workspace: Path
) -> list[AtomConstructor]:
    counts: Counter[str] = Counter()
    for row in input_atoms["texts"].iter_rows():
        for m in row["messages"]:
            if m["role"] == "assistant":
                text = m["content"].lower() if config.lowercase else m["content"]
                counts.update(text.split())
    path = temp_workspace / "counts.json"
    path.write_text(json.dumps(dict(sorted(counts.items()))))
    return [AtomConstructor("counts", path, "wordcount")]


wordcount_workflow = Workflow(
    name="example_wordcount",
    input_atom_types={},
    steps=[
        Step("make_dataset", make_dataset, {}, {"texts": "dataset"}, MakeDatasetConfig),
        Step(
            "count_words",
            count_words,
            {"texts": "dataset"},
            {"counts": "wordcount"},
            CountWordsConfig,
        ),
    ],
    config_class=WordCountConfig,
    description="Count words in a dataset's assistant replies (example plugin).",
)
