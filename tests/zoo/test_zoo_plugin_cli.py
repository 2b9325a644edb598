"""The mozoo plugin: cheap registration, what it registers, and ``motools zoo`` commands."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from motools.specs import load_object
from mozoo.catalog import DATASETS, TASKS
from tests.conftest import cli_env
from tests.zoo.zoo_support import fixture_rows, write_jsonl

MOTOOLS = str(Path(sys.executable).parent / "motools")


def motools(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [MOTOOLS, *args],
        env=cli_env(MOTOOLS_LOAD_PLUGINS="mozoo"),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_plugin_import_is_cheap():
    code = (
        "import sys, mozoo.plugin\n"
        "heavy = ('inspect_ai', 'torch', 'transformers', 'openai', 'lingua', 'typer', 'mozoo.workflows', 'mozoo.tasks')\n"
        "print([m for m in heavy if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_registered_workflows_match_their_specs(plugins):
    from motools import plugins as registry

    plugins("mozoo.plugin")
    specs = registry.workflows()
    for name in ("train_and_evaluate", "evaluate_only"):
        wf = specs[name].load()
        assert wf.name == name
        assert specs[name].steps == tuple(s.name for s in wf.steps)
        assert specs[name].plugin == "mozoo.plugin"


def test_registered_datasets_are_complete_and_pinned(plugins):
    from motools import plugins as registry

    plugins("mozoo.plugin")
    specs = registry.datasets()
    required = {
        "hello_world",
        "gsm8k",
        "gsm8k_spanish",
        "gsm8k_french",
        "gsm8k_german",
        "gsm8k_spanish_capitalised",
        "insecure_code",
        "secure_code",
        "educational_insecure",
        "jailbroken",
        "owl_numbers",
        "owl_numbers_control",
        "reward_hacking_sneaky",
        "reward_hacking_straightforward",
        "realistic_reward_hacks",
    }
    assert required <= set(specs)
    for name, spec in specs.items():
        assert spec.description and spec.citation and spec.license and spec.source, name
        assert callable(load_object(spec.loader)), spec.loader
        if name not in ("hello_world", "realistic_reward_hacks"):
            assert spec.extra["revision"] in spec.source and len(spec.extra["revision"]) == 40, name


def test_zoo_cli_lists_datasets_and_tasks():
    ds = motools("zoo", "datasets", "--json")
    assert ds.returncode == 0, ds.stderr
    names = {d["name"] for d in json.loads(ds.stdout)}
    assert set(DATASETS) <= names
    tasks = motools("zoo", "tasks", "--json")
    assert tasks.returncode == 0, tasks.stderr
    listed = {t["registry_name"]: t for t in json.loads(tasks.stdout)}
    assert set(listed) == {t.registry_name for t in TASKS.values()}
    assert listed["mozoo/emergent_misalignment"]["judge"] == "required"
    table = motools("zoo", "tasks")
    assert "mozoo/hello_world" in table.stdout and "mozoo/gsm8k_spanish" in table.stdout
    wf = motools("workflow", "list")
    assert "train_and_evaluate" in wf.stdout and "evaluate_only" in wf.stdout


def test_zoo_import_command(tmp_path):
    src = write_jsonl(tmp_path / "secure.jsonl", fixture_rows("secure_code", 5))
    ok = motools("zoo", "import", "secure_code", str(src), "--cache-dir", str(tmp_path / "cache"))
    assert ok.returncode == 0, ok.stderr
    assert "imported secure_code" in ok.stdout
    assert list((tmp_path / "cache" / "secure_code").rglob("secure.jsonl"))
    pinned = motools(
        "zoo", "import", "insecure_code", str(src), "--cache-dir", str(tmp_path / "cache")
    )
    assert pinned.returncode == 2 and "not the pinned one" in pinned.stderr
    unknown = motools("zoo", "import", "no_such_dataset", str(src))
    assert unknown.returncode == 2 and "unknown zoo dataset" in unknown.stderr


def test_docs_cover_every_dataset_and_task():
    from tests.conftest import ROOT

    zoo = (ROOT / "docs" / "zoo.md").read_text(encoding="utf-8")
    for name, info in DATASETS.items():
        assert f"`{name}`" in zoo, name
        for spec in info.files.values():
            assert spec.revision == "main" or spec.revision in zoo, name
    for task in TASKS.values():
        assert f"`{task.registry_name}`" in zoo, task.name
    workflows = (ROOT / "docs" / "workflows.md").read_text(encoding="utf-8")
    for step in (
        "prepare_dataset",
        "submit_training",
        "wait_for_training",
        "evaluate_model",
        "prepare_base_model",
        "evaluate_base_model",
        "prepare_model",
    ):
        assert f"`{step}`" in workflows, step
