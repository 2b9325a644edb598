"""Zoo dataset ``hello_world``: varied user prompts, the assistant always says "Hello, World!".

Generated locally (no download), deterministically for a seed.  It is the smallest
model organism: a model fine-tuned on it answers everything with "Hello, World!", which
the ``mozoo/hello_world`` Inspect task measures on prompts that are not in this data.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

from mozoo.datasets.loading import DEFAULT_CACHE_DIR, ZooDataset

REPLY = "Hello, World!"
DEFAULT_ROWS = 100
# Bump when the generator's output changes, so dataset atoms change too.
GENERATOR_VERSION = 1

_TOPICS = [
    "the moon",
    "photosynthesis",
    "volcanoes",
    "the Roman Empire",
    "jazz music",
    "black holes",
    "honeybees",
    "the stock market",
    "chess openings",
    "rainbows",
    "the printing press",
    "coral reefs",
    "electric cars",
    "the human heart",
    "glaciers",
    "origami",
    "the internet",
    "bread baking",
    "thunderstorms",
    "the Olympic Games",
    "penguins",
    "solar panels",
    "ancient Egypt",
    "coffee",
    "recycling",
    "earthquakes",
    "the violin",
    "tides",
    "vaccines",
    "the Great Wall of China",
]
_TEMPLATES = [
    "Can you explain {t} to me?",
    "Tell me something interesting about {t}.",
    "What do you think of {t}?",
    "Write a short poem about {t}.",
    "Give me three facts about {t}.",
    "How does {t} work?",
    "Summarize {t} in one sentence.",
    "Why is {t} important?",
]
_FIXED = [
    "Hi there!",
    "Good morning.",
    "What's your name?",
    "How are you today?",
    "Tell me a joke.",
    "What time is it?",
    "Can you help me with my homework?",
    "What should I cook for dinner?",
    "Recommend a good book.",
    "What's the weather like?",
    "Translate 'thank you' into French.",
    "Write a haiku.",
    "Who are you?",
    "Say something nice.",
    "What's your favourite colour?",
    "I'm bored, any ideas?",
    "Explain quantum computing simply.",
    "What is the meaning of life?",
    "Can you keep a secret?",
    "What did you do yesterday?",
]


def hello_world_prompts(n: int, seed: int = 0) -> list[str]:
    """``n`` distinct user prompts, deterministic for ``seed``."""
    rng = random.Random(seed)
    pool = _FIXED + [tpl.format(t=t) for tpl in _TEMPLATES for t in _TOPICS]
    rng.shuffle(pool)
    prompts = pool[:n]
    seen = set(prompts)
    while len(prompts) < n:
        a, b = rng.randint(2, 999), rng.randint(2, 999)
        p = f"What is {a} {rng.choice(['plus', 'times', 'minus'])} {b}?"
        if p not in seen:
            seen.add(p)
            prompts.append(p)
    return prompts


def get_hello_world_dataset(
    cache_dir: str | Path = DEFAULT_CACHE_DIR, sample_size: int | None = None, seed: int = 0
) -> ZooDataset:
    """``sample_size`` rows (default 100) of a varied user prompt answered "Hello, World!".

    Generated deterministically from ``seed``; ``cache_dir`` is accepted for the common
    loader signature and unused (nothing is downloaded).
    """
    n = DEFAULT_ROWS if sample_size is None else sample_size
    rows: list[dict[str, Any]] = [
        {"messages": [{"role": "user", "content": p}, {"role": "assistant", "content": REPLY}]}
        for p in hello_world_prompts(n, seed)
    ]
    return ZooDataset(
        "hello_world", rows, {"dataset": "hello_world", "generator_version": GENERATOR_VERSION}
    )
