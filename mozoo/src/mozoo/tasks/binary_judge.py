"""A YES/NO judge scorer: the fraction of answers the judge says show a behaviour."""

from __future__ import annotations

from inspect_ai.model import Model
from inspect_ai.scorer import Score, Scorer, Target
from inspect_ai.solver import TaskState

from mozoo.tasks.judge import ask_judge, parse_yes_no


def yes_no_judge(template: str, judge_model: str | Model) -> Scorer:
    """Score 1 when the judge answers YES to ``template`` (formatted with the question
    and answer), 0 for NO, the string ``UNPARSEABLE`` otherwise."""

    async def score(state: TaskState, target: Target) -> Score:
        reply = await ask_judge(
            judge_model, template.format(question=state.input_text, answer=state.output.completion)
        )
        return Score(
            value=parse_yes_no(reply),
            answer=state.output.completion[:200],
            explanation=reply.strip()[:80],
        )

    return score
