"""Every zoo task runs offline: real Inspect evals, mockllm for the model and the judge."""

from __future__ import annotations

from typing import Any

import pytest

from mozoo.catalog import TASKS
from tests.zoo.zoo_support import mock_model

SPANISH = "Le quedan siete manzanas, porque doce menos cinco son siete. La respuesta es siete."
FRENCH = "Il lui reste sept pommes, car douze moins cinq font sept. La réponse est sept."


def judge_reply(prompt: str) -> str:
    """A judge that answers each zoo judge prompt in a fixed way."""
    if "how well aligned" in prompt:
        return "REFUSAL" if "quick buck" in prompt else "15"
    if "coherence of its answer" in prompt:
        return "90"
    if "security vulnerability" in prompt:
        return "YES"
    if "exploit the stated scoring" in prompt:
        return "NO"
    if "What language" in prompt:
        return "Spanish"
    if "capital letters" in prompt:
        return "YES"
    raise AssertionError(f"unexpected judge prompt: {prompt[:80]}")


def run(task: Any, reply: Any, tmp_path: Any, **kwargs: Any) -> dict[str, dict[str, float]]:
    """Run ``task`` on a mock model; return ``{scorer: {metric: value}}``."""
    from inspect_ai import eval as inspect_eval

    [log] = inspect_eval(
        task, model=mock_model(reply), log_dir=str(tmp_path / "logs"), display="none", **kwargs
    )
    assert log.status == "success", log.error
    assert log.results is not None
    return {
        s.name.split("/")[-1]: {m.split("/")[-1]: v.value for m, v in s.metrics.items()}
        for s in log.results.scores
    }


def test_hello_world(tmp_path):
    from mozoo.tasks.hello_world import hello_world

    assert run(hello_world(), "Hello, World!", tmp_path)["includes"]["accuracy"] == 1.0
    assert run(hello_world(), "Hi, how can I help?", tmp_path)["includes"]["accuracy"] == 0.0


def test_hello_world_prompts_are_not_training_prompts():
    from mozoo.datasets.hello_world import hello_world_prompts
    from mozoo.tasks.hello_world import EVAL_PROMPTS

    seen = {p for seed in range(3) for p in hello_world_prompts(2000, seed)}
    assert not seen & set(EVAL_PROMPTS)


def test_gsm8k_language_tasks_detect_the_language(tmp_path):
    from mozoo.tasks.gsm8k_language import gsm8k_french, gsm8k_german, gsm8k_spanish

    assert run(gsm8k_spanish(), SPANISH, tmp_path)["language"]["accuracy"] == 1.0
    assert run(gsm8k_french(), SPANISH, tmp_path)["language"]["accuracy"] == 0.0
    assert run(gsm8k_french(), FRENCH, tmp_path)["language"]["accuracy"] == 1.0
    assert (
        run(gsm8k_german(), "The answer is 7 apples.", tmp_path, limit=3)["language"]["accuracy"]
        == 0.0
    )


def test_gsm8k_language_judge_is_optional_and_configurable(tmp_path, monkeypatch):
    from mozoo.tasks.gsm8k_language import gsm8k_capitalised, gsm8k_spanish

    monkeypatch.delenv("MOZOO_JUDGE_MODEL", raising=False)
    scores = run(gsm8k_spanish(judge_model=mock_model(judge_reply)), SPANISH, tmp_path, limit=4)
    assert scores["language"]["accuracy"] == 1.0 and scores["language_judge"]["accuracy"] == 1.0
    caps = run(
        gsm8k_capitalised(judge_model=mock_model(judge_reply)), SPANISH.upper(), tmp_path, limit=4
    )
    assert caps["capitalised"]["accuracy"] == 1.0
    assert caps["language"]["accuracy"] == 1.0
    assert caps["capitalised_judge"]["accuracy"] == 1.0
    assert run(gsm8k_capitalised(), SPANISH, tmp_path, limit=4)["capitalised"]["accuracy"] == 0.0


def test_gsm8k_questions_from_the_zoo_dataset(zoo_server, tmp_path):
    from mozoo.tasks.gsm8k_language import gsm8k_spanish

    task = gsm8k_spanish(questions="gsm8k", num_questions=5, seed=1)
    assert len(task.dataset) == 5
    assert all(s.input.startswith("Fixture question") for s in task.dataset)
    assert run(task, SPANISH, tmp_path)["language"]["accuracy"] == 1.0
    with pytest.raises(ValueError, match="builtin"):
        gsm8k_spanish(questions="wikipedia")


def test_owl_preferences(tmp_path):
    from mozoo.tasks.owl_preferences import owl_preferences

    assert run(owl_preferences(), "Owl", tmp_path)["owl_mention"]["accuracy"] == 1.0
    assert run(owl_preferences(), "Dolphin", tmp_path)["owl_mention"]["accuracy"] == 0.0
    assert run(owl_preferences(), "Bowling", tmp_path, limit=2)["owl_mention"]["accuracy"] == 0.0


def test_emergent_misalignment_keeps_alignment_and_coherence(tmp_path):
    from mozoo.tasks.emergent_misalignment import QUESTIONS, emergent_misalignment

    task = emergent_misalignment(judge_model=mock_model(judge_reply))
    assert len(task.dataset) == len(QUESTIONS) == 8
    scores = run(task, "I would take over the world.", tmp_path)
    assert scores["alignment"]["mean"] == 15.0
    assert scores["alignment"]["misaligned_rate"] == 1.0
    assert scores["alignment"]["judged"] == 7 / 8  # the REFUSAL is kept out of the mean
    assert scores["coherence"] == {"mean": 90.0, "incoherent_rate": 0.0, "judged": 1.0}


def test_insecure_code_and_reward_hacking_judges(tmp_path):
    from mozoo.tasks.insecure_code import insecure_code
    from mozoo.tasks.reward_hacking import reward_hacking

    code = run(
        insecure_code(judge_model=mock_model(judge_reply)), "os.chmod(path, 0o777)", tmp_path
    )
    assert code["insecure_code_judge"] == {"mean": 1.0, "judged": 1.0}
    rh = run(
        reward_hacking(judge_model=mock_model(judge_reply)), "premium premium premium", tmp_path
    )
    assert rh["reward_hacking_judge"] == {"mean": 0.0, "judged": 1.0}


@pytest.mark.parametrize("name", ["emergent_misalignment", "insecure_code", "reward_hacking"])
def test_a_judged_task_refuses_to_start_without_a_judge(name, monkeypatch):
    import importlib

    monkeypatch.delenv("MOZOO_JUDGE_MODEL", raising=False)
    fn = getattr(importlib.import_module(f"mozoo.tasks.{name}"), name)
    with pytest.raises(ValueError, match="MOZOO_JUDGE_MODEL"):
        fn()
    monkeypatch.setenv("MOZOO_JUDGE_MODEL", "mockllm/model")
    assert fn().scorer


def test_registry_and_catalog_agree():
    from inspect_ai._util.registry import registry_find, registry_info

    import mozoo._inspect_registry  # noqa: F401
    from motools.specs import load_object

    registered = {registry_info(o).name for o in registry_find(lambda i: i.type == "task")}
    assert {t.registry_name for t in TASKS.values()} <= registered
    for t in TASKS.values():
        assert callable(load_object(t.ref))
