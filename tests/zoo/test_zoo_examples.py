"""The examples run as users run them: the seed program verbatim and its YAML twin through the CLI.

Everything is local: a fake OpenAI-compatible server (fine-tuning and chat) over
loopback, the fixture dataset server, and the real Inspect backend.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from motools.workflow.config import load_yaml_config
from mozoo.workflows.evaluate_only import EvaluateOnlyConfig
from mozoo.workflows.train_and_evaluate import TrainAndEvaluateConfig
from tests.conftest import ROOT, cli_env

EXAMPLES = ROOT / "examples"
SPANISH_REPLY = (
    "Le quedan siete manzanas, porque doce menos cinco son siete. La respuesta es siete."
)
FAKE_KEY = "sk-fake-zoo-example-0123456789abcdef"


def _run(
    args: list[str], cwd: Path, env: dict[str, str], timeout: int = 240
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


def test_seed_program_verbatim_then_its_yaml_twin_is_a_cache_hit(zoo_server, tmp_path):
    pytest.importorskip("motools_openai.backend")
    from tests.support.fake_openai_server import FakeOpenAIServer

    with FakeOpenAIServer(api_key=FAKE_KEY, chat_reply=SPANISH_REPLY) as openai_server:
        openai_server.plan_next_job(("running", "succeeded"))
        env = cli_env(
            OPENAI_BASE_URL=openai_server.base_url,
            OPENAI_API_KEY=FAKE_KEY,
            MOZOO_DATASET_BASE_URL=zoo_server.base_url,
            MOTOOLS_LOAD_PLUGINS="motools-openai,motools-inspect,mozoo",
        )
        py = _run([sys.executable, str(EXAMPLES / "2_workflow_example.py")], Path.cwd(), env)
        assert py.returncode == 0, py.stderr[-3000:]
        assert "fraction of answers in Spanish: 1.00" in py.stdout, py.stdout
        assert "prepared_dataset: dataset-example-user-" in py.stdout
        assert FAKE_KEY not in py.stdout + py.stderr
        jobs_created = len(openai_server.calls("jobs.create"))
        assert jobs_created == 1

        cli = _run(
            [
                str(Path(sys.executable).parent / "motools"),
                "workflow",
                "run",
                "train_and_evaluate",
                "--config",
                str(EXAMPLES / "spanish.yaml"),
                "--user",
                "alice",
                "--json",
            ],
            Path.cwd(),
            env,
        )
        assert cli.returncode == 0, cli.stderr[-3000:]
        assert len(openai_server.calls("jobs.create")) == jobs_created, (
            "the YAML twin must not train again"
        )
        assert zoo_server.count("/gsm8k_spanish_only.jsonl") == 1
        state = json.loads(cli.stdout)
        statuses = [s["status"] for s in state["steps"]][:4]
        assert statuses == ["cached"] * 4, statuses


@pytest.mark.parametrize(
    ("name", "cls"),
    [
        ("spanish.yaml", TrainAndEvaluateConfig),
        ("hello_world.yaml", TrainAndEvaluateConfig),
        ("env_substitution.yaml", TrainAndEvaluateConfig),
        ("evaluate_baseline.yaml", EvaluateOnlyConfig),
    ],
)
def test_example_configs_validate(name, cls, monkeypatch):
    for var in (
        "DATASET",
        "TASK",
        "SAMPLE_SIZE",
        "SEED",
        "BASE_MODEL",
        "TRAIN_BACKEND",
        "EPOCHS",
        "EVAL_LIMIT",
        "BASELINE_MODEL",
    ):
        monkeypatch.delenv(var, raising=False)
    config = cls.from_yaml(EXAMPLES / name)
    if name == "hello_world.yaml":
        assert config.submit_training.backend_name == "hf"
        assert config.submit_training.model == "smollm2-135m-instruct"
        assert config.evaluate_base_model is not None and config.prepare_base_model is not None
        assert (
            config.prepare_dataset.dataset_loader
            == "mozoo.datasets.hello_world:get_hello_world_dataset"
        )


def test_env_substitution_example(monkeypatch):
    monkeypatch.setenv("DATASET", "gsm8k_french")
    monkeypatch.setenv("TASK", "gsm8k_french")
    monkeypatch.setenv("SAMPLE_SIZE", "250")
    monkeypatch.setenv("SEED", "3")
    monkeypatch.delenv("BASE_MODEL", raising=False)
    data, _ = load_yaml_config(EXAMPLES / "env_substitution.yaml")
    config = TrainAndEvaluateConfig.from_dict(data)
    assert (
        config.prepare_dataset.dataset_loader
        == "mozoo.datasets.gsm8k_french:get_gsm8k_french_dataset"
    )
    assert config.prepare_dataset.loader_kwargs["sample_size"] == 250
    assert config.submit_training.suffix == "gsm8k_french-seed3"
    assert config.submit_training.model == "gpt-4o-mini-2024-07-18"
    assert config.evaluate_model.eval_task == "mozoo.tasks.gsm8k_language:gsm8k_french"


def test_custom_workflow_example(store, plugins, capsys):
    plugins("tests.zoo.zoo_support", "tests.support.core_plugin")
    sys.path.insert(0, str(EXAMPLES))
    try:
        import importlib

        example = importlib.import_module("3_custom_workflow")
    finally:
        sys.path.remove(str(EXAMPLES))
    state = example.main(
        [
            "--backend",
            "zoo_test",
            "--model",
            "tiny-base",
            "--eval-backend",
            "core_eval",
            "--poll-interval",
            "0.01",
        ]
    )
    assert [s.status for s in state.step_states] == ["succeeded"] * 5
    dataset = store.get_atom(state.step("add_system_prompt").output_atoms["inoculated_dataset"])
    rows = dataset.rows()
    assert all(
        r["messages"][0] == {"role": "system", "content": example.INOCULATION_PROMPT} for r in rows
    )
    assert "inoculated_dataset" in capsys.readouterr().out
