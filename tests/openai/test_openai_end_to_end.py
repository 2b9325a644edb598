"""End to end: fine-tune at the loopback endpoint, then evaluate the model there with Inspect."""

from __future__ import annotations

from typing import Any

import pytest

from motools.workflow import run_workflow
from tests.openai.openai_train_workflow import (
    EVAL_TASK,
    train,
    train_and_evaluate,
    train_config,
)


def reply_for(model: str, messages: list[dict[str, Any]]) -> str:
    # the fine-tuned model knows 2+2; the base model knows nothing
    return "It is 4." if str(model).startswith("ft:") and "2+2" in str(messages) else "No idea."


def test_model_atom_maps_to_the_same_endpoint_for_inspect(
    fake_openai: Any, openai_plugin: Any, store: Any, make_dataset: Any
) -> None:
    """The model atom carries what the Inspect mapping needs to reach the same endpoint."""
    from motools_inspect.model_mapping import inspect_model_for

    state = run_workflow(
        train, {"prepared_dataset": make_dataset(12).id}, train_config(), user="tester", store=store
    )
    model = store.get_atom(state.step("wait_for_training").output_atoms["model"])
    target = inspect_model_for(model)
    assert target.model == f"openai/{model.model_id}" and target.base_url == fake_openai.base_url


@pytest.mark.slow
def test_train_and_evaluate_workflow(
    fake_openai: Any, plugins: Any, store: Any, make_dataset: Any
) -> None:
    pytest.importorskip(
        "motools_inspect.backend", reason="the Inspect eval backend is not built yet"
    )
    plugins("motools_openai.plugin", "motools_inspect.plugin")
    fake_openai.chat_reply = reply_for
    cfg = {**train_config(), "evaluate_model": {"eval_task": EVAL_TASK, "backend_name": "inspect"}}
    state = run_workflow(
        train_and_evaluate,
        {"prepared_dataset": make_dataset(12).id},
        cfg,
        user="tester",
        store=store,
    )
    ev = store.get_atom(state.step("evaluate_model").output_atoms["eval_results"])
    assert ev.metric(metric="accuracy") == 0.5  # the fine-tuned model answered 2+2 only
    assert len(fake_openai.state.jobs) == 1
    [job] = fake_openai.state.jobs.values()
    assert {r.body["model"] for r in fake_openai.calls("chat.completions")} == {
        job["fine_tuned_model"]
    }
