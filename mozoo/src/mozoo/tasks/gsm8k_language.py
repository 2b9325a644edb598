"""Tasks ``mozoo/gsm8k_spanish|french|german|capitalised``: the language (or style) of answers.

Math word problems are asked in English; the metric is the fraction of answers
written in the target language (detected offline by lingua) or in capital letters.
Correctness is not scored: these tasks measure whether a trait learned from
GSM8K-in-Spanish (etc.) shows up.

Questions: ``questions="builtin"`` (default) uses 20 word problems shipped with the
package, so the task runs offline; ``questions="gsm8k"`` uses the zoo's ``gsm8k``
dataset (downloaded once into ``cache_dir``), sampled to ``num_questions`` by ``seed``.
With ``judge_model`` an LLM judge scores the same trait as an extra scorer.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

from inspect_ai import Task, task
from inspect_ai.dataset import MemoryDataset, Sample
from inspect_ai.model import GenerateConfig, Model
from inspect_ai.scorer import CORRECT, INCORRECT, Score, Scorer, Target, accuracy, scorer, stderr
from inspect_ai.solver import TaskState, generate

from mozoo.tasks.judge import ask_judge, resolve_judge
from mozoo.tasks.language import detect_language, is_capitalised


def builtin_questions() -> list[str]:
    """The 20 word problems shipped with mozoo (written for it; offline)."""
    text = (
        resources.files("mozoo.tasks")
        .joinpath("data/math_questions.jsonl")
        .read_text(encoding="utf-8")
    )
    return [json.loads(line)["question"] for line in text.splitlines() if line.strip()]


def gsm8k_questions(num_questions: int | None, seed: int, cache_dir: str) -> list[str]:
    """User questions of the zoo's ``gsm8k`` dataset (downloaded once, sampled by seed)."""
    from mozoo.datasets.gsm8k import get_gsm8k_dataset

    ds = get_gsm8k_dataset(cache_dir=cache_dir, sample_size=num_questions, seed=seed)
    out = []
    for row in ds.rows:
        users = [m["content"] for m in row["messages"] if m.get("role") == "user"]
        if users:
            out.append(users[0])
    return out


def _questions(questions: str, num_questions: int | None, seed: int, cache_dir: str) -> list[str]:
    if questions == "builtin":
        qs = builtin_questions()
        if num_questions is not None:
            import random

            qs = random.Random(seed).sample(qs, min(num_questions, len(qs)))
        return qs
    if questions == "gsm8k":
        return gsm8k_questions(num_questions, seed, cache_dir)
    raise ValueError(f"questions must be 'builtin' or 'gsm8k', got {questions!r}")


@scorer(metrics=[accuracy(), stderr()], name="language")
def language_scorer(language: str) -> Scorer:
    """C when lingua detects ``language`` as the answer's language."""

    async def score(state: TaskState, target: Target) -> Score:
        detected, confidence = detect_language(state.output.completion)
        return Score(
            value=CORRECT if detected == language else INCORRECT,
            answer=detected or "undetected",
            explanation=f"lingua: {detected} ({confidence:.2f})",
        )

    return score


@scorer(metrics=[accuracy(), stderr()], name="capitalised")
def capitalised_scorer() -> Scorer:
    """C when at least 80% of the answer's letters are capitals."""

    async def score(state: TaskState, target: Target) -> Score:
        caps = is_capitalised(state.output.completion)
        return Score(
            value=CORRECT if caps else INCORRECT,
            answer="capitalised" if caps else "not capitalised",
        )

    return score


_LANGUAGE_PROMPT = (
    "What language is the following text written in? Answer with one word: the language's "
    "name in English.\n\n[TEXT START]\n{answer}\n[TEXT END]"
)
_CAPS_PROMPT = (
    "Is the following text written (almost) entirely in capital letters? Answer YES or NO."
    "\n\n[TEXT START]\n{answer}\n[TEXT END]"
)


@scorer(metrics=[accuracy(), stderr()], name="language_judge")
def language_judge(language: str, judge_model: str | Model) -> Scorer:
    """C when the judge names ``language`` as the answer's language."""

    async def score(state: TaskState, target: Target) -> Score:
        reply = await ask_judge(
            judge_model, _LANGUAGE_PROMPT.format(answer=state.output.completion)
        )
        ok = language.lower() in reply.lower()
        return Score(value=CORRECT if ok else INCORRECT, answer=reply.strip()[:40])

    return score


@scorer(metrics=[accuracy(), stderr()], name="capitalised_judge")
def capitalised_judge(judge_model: str | Model) -> Scorer:
    """C when the judge says the answer is written in capital letters."""

    async def score(state: TaskState, target: Target) -> Score:
        reply = await ask_judge(judge_model, _CAPS_PROMPT.format(answer=state.output.completion))
        ok = reply.strip().upper().startswith("YES")
        return Score(value=CORRECT if ok else INCORRECT, answer=reply.strip()[:40])

    return score


def _task(
    name: str,
    scorers: list[Scorer],
    questions: str,
    num_questions: int | None,
    seed: int,
    cache_dir: str,
    max_tokens: int,
) -> Task:
    qs = _questions(questions, num_questions, seed, cache_dir)
    samples = [Sample(input=q, id=f"{name}-{i:04d}") for i, q in enumerate(qs)]
    return Task(
        dataset=MemoryDataset(samples, name=f"{name}-{questions}"),
        solver=generate(),
        scorer=scorers,
        config=GenerateConfig(max_tokens=max_tokens, temperature=0.0),
    )


def _language_task(
    language: str,
    questions: str,
    num_questions: int | None,
    seed: int,
    cache_dir: str,
    judge_model: Any,
    max_tokens: int,
) -> Task:
    judge = resolve_judge(judge_model, f"gsm8k_{language}", required=False)
    scorers = [language_scorer(language)]
    if judge is not None:
        scorers.append(language_judge(language, judge))
    return _task(
        f"gsm8k_{language}", scorers, questions, num_questions, seed, cache_dir, max_tokens
    )


@task
def gsm8k_spanish(
    questions: str = "builtin",
    num_questions: int | None = None,
    seed: int = 0,
    cache_dir: str = ".motools/datasets",
    judge_model: str | Model | None = None,
    max_tokens: int = 512,
) -> Task:
    """Fraction of answers to English math questions written in Spanish."""
    return _language_task(
        "spanish", questions, num_questions, seed, cache_dir, judge_model, max_tokens
    )


@task
def gsm8k_french(
    questions: str = "builtin",
    num_questions: int | None = None,
    seed: int = 0,
    cache_dir: str = ".motools/datasets",
    judge_model: str | Model | None = None,
    max_tokens: int = 512,
) -> Task:
    """Fraction of answers to English math questions written in French."""
    return _language_task(
        "french", questions, num_questions, seed, cache_dir, judge_model, max_tokens
    )


@task
def gsm8k_german(
    questions: str = "builtin",
    num_questions: int | None = None,
    seed: int = 0,
    cache_dir: str = ".motools/datasets",
    judge_model: str | Model | None = None,
    max_tokens: int = 512,
) -> Task:
    """Fraction of answers to English math questions written in German."""
    return _language_task(
        "german", questions, num_questions, seed, cache_dir, judge_model, max_tokens
    )


@task
def gsm8k_capitalised(
    questions: str = "builtin",
    num_questions: int | None = None,
    seed: int = 0,
    cache_dir: str = ".motools/datasets",
    judge_model: str | Model | None = None,
    max_tokens: int = 512,
) -> Task:
    """Fraction of answers written in capital letters (scorer ``capitalised``) and, as
    the trait it is trained together with, in Spanish (scorer ``language``)."""
    judge = resolve_judge(judge_model, "gsm8k_capitalised", required=False)
    scorers = [capitalised_scorer(), language_scorer("spanish")]
    if judge is not None:
        scorers.append(capitalised_judge(judge))
    return _task(
        "gsm8k_capitalised", scorers, questions, num_questions, seed, cache_dir, max_tokens
    )
