"""The prepare_dataset step: any loader, row validation, hashing, caching (through the real engine)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from motools.errors import ConfigError
from motools.workflow import Step, Workflow, WorkflowConfig, WorkflowFailed, run_workflow
from mozoo.workflows.prepare_dataset import PrepareDatasetConfig, prepare_dataset
from tests.zoo import custom_loaders


class PrepOnlyConfig(WorkflowConfig):
    prepare_dataset: PrepareDatasetConfig


PREP_ONLY = Workflow(
    "prep_only",
    {},
    [
        Step(
            "prepare_dataset",
            prepare_dataset,
            {},
            {"prepared_dataset": "dataset"},
            PrepareDatasetConfig,
        )
    ],
    PrepOnlyConfig,
)


def prep(store, loader: str, **kwargs):
    cfg = PrepOnlyConfig(
        prepare_dataset=PrepareDatasetConfig(dataset_loader=loader, loader_kwargs=kwargs)
    )
    state = run_workflow(PREP_ONLY, {}, cfg, user="tester", store=store)
    return state, store.get_atom(state.step_states[0].output_atoms["prepared_dataset"])


def test_list_loader_rows_metadata_and_defaults_in_the_hash(store):
    _, atom = prep(
        store, "tests.zoo.custom_loaders:list_loader", sample_size=5, cache_dir="somewhere"
    )
    assert atom.type == "dataset" and atom.count() == 5 and atom.validate() == 5
    assert atom.metadata["loader"] == "tests.zoo.custom_loaders:list_loader"
    # defaults filled in, cache_dir left out: the same data is the same atom wherever it is cached
    assert atom.metadata["loader_kwargs"] == {"sample_size": 5, "seed": 0, "tag": "list"}
    _, same = prep(
        store, "tests.zoo.custom_loaders:list_loader", sample_size=5, seed=0, cache_dir="elsewhere"
    )
    assert same.id == atom.id
    _, reseeded = prep(store, "tests.zoo.custom_loaders:list_loader", sample_size=5, seed=1)
    _, resized = prep(store, "tests.zoo.custom_loaders:list_loader", sample_size=6)
    assert len({atom.id, reseeded.id, resized.id}) == 3


def test_unchanged_config_is_a_cache_hit_and_the_loader_is_not_called_again(store):
    custom_loaders.CALLS.clear()
    first, _ = prep(store, "tests.zoo.custom_loaders:list_loader", sample_size=3)
    second, _ = prep(store, "tests.zoo.custom_loaders:list_loader", sample_size=3)
    assert first.step_states[0].status == "succeeded"
    assert second.step_states[0].status == "cached"
    assert len(custom_loaders.CALLS) == 1


def test_async_and_path_loaders(store, tmp_path):
    _, a = prep(store, "tests.zoo.custom_loaders:async_loader", sample_size=2, seed=7)
    assert [r["messages"][0]["content"] for r in a.rows()] == [
        "async-7 question 0",
        "async-7 question 1",
    ]
    _, p = prep(
        store, "tests.zoo.custom_loaders:path_loader", cache_dir=str(tmp_path), sample_size=4
    )
    assert p.count() == 4 and p.metadata["loader_kwargs"] == {"sample_size": 4}


def test_zoo_loader_records_its_source(store, zoo_server):
    _, atom = prep(
        store,
        "mozoo.datasets.gsm8k_spanish:get_gsm8k_spanish_dataset",
        cache_dir=".motools/datasets",
        sample_size=7,
    )
    assert atom.count() == 7
    assert atom.metadata["source"]["dataset"] == "gsm8k_spanish"
    assert len(atom.metadata["source"]["sha256"]) == 64


def test_a_loader_returning_a_dataset_atom(store, tmp_path):
    src = tmp_path / "rows.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in custom_loaders._rows(3, "atom")))
    existing = store.create_atom("dataset", "tester", src, {"made": "by hand"})
    module = tmp_path / "atom_loader_mod.py"
    module.write_text(
        "from motools.store import get_store\n"
        f"def load():\n    return get_store({str(store.root)!r}).get_atom({existing.id!r})\n"
    )
    import sys

    sys.path.insert(0, str(tmp_path))
    try:
        _, atom = prep(store, "atom_loader_mod:load")
    finally:
        sys.path.remove(str(tmp_path))
    assert atom.rows() == existing.rows()


def test_bad_row_fails_the_step_naming_the_row(store):
    with pytest.raises(WorkflowFailed) as e:
        prep(store, "tests.zoo.custom_loaders:bad_row_loader")
    msg = str(e.value)
    assert "row 3" in msg and "'robot'" in msg and "bad_row_loader" in msg


@pytest.mark.parametrize(
    ("loader", "expected"),
    [
        ("tests.zoo.custom_loaders:empty_loader", "returned no rows"),
        ("tests.zoo.custom_loaders:number_loader", "returned a int"),
        ("tests.zoo.custom_loaders:failing_loader", "the source is down"),
    ],
)
def test_loader_failures_are_clear(store, loader, expected):
    with pytest.raises(WorkflowFailed, match=expected):
        prep(store, loader)


@pytest.mark.parametrize(
    ("loader", "kwargs", "expected"),
    [
        ("no_colon_here", {}, "expected 'module:function'"),
        ("tests.zoo.not_a_module:x", {}, "cannot import module"),
        ("mozoo.datasets.gsm8k_spanish:get_gsm8k_dataset", {}, "get_gsm8k_spanish_dataset"),
        ("tests.zoo.custom_loaders:async_loader", {"samplesize": 3}, "samplesize"),
    ],
)
def test_bad_loader_config_is_a_config_error_before_anything_runs(store, loader, kwargs, expected):
    custom_loaders.CALLS.clear()
    with pytest.raises(ConfigError, match=expected) as e:
        prep(store, loader, **kwargs)
    assert "prepare_dataset" in str(e.value)
    assert store.list_atoms() == [] and custom_loaders.CALLS == [], "nothing ran"


def test_the_dataset_file_is_canonical_jsonl(store):
    _, atom = prep(store, "tests.zoo.custom_loaders:list_loader", sample_size=2)
    lines = Path(atom.jsonl_path).read_text().splitlines()
    assert [json.loads(line) for line in lines] == atom.rows()
    assert lines[0] == json.dumps(atom.rows()[0], ensure_ascii=False, sort_keys=True)


def test_editing_a_loaders_file_argument_or_source_prepares_the_dataset_again(
    store, plugins, tmp_path, monkeypatch
):
    """What a loader's name and arguments do not show still reaches the cache key."""
    import sys

    from motools.workflow import plan_workflow
    from mozoo.workflows.train_and_evaluate import train_and_evaluate_workflow as wf

    plugins("tests.support.test_backend", "tests.support.core_plugin")
    data = tmp_path / "mine.jsonl"
    row = {"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "A"}]}
    data.write_text(json.dumps(row) + "\n")
    mod = tmp_path / "my_loaders.py"
    mod.write_text("def load(path, sample_size=None, seed=0, cache_dir=None):\n    return path\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    config = {
        "prepare_dataset": {
            "dataset_loader": "my_loaders:load",
            "loader_kwargs": {"path": str(data)},
        },
        "submit_training": {"model": "m", "backend_name": "test"},
        "wait_for_training": {"poll_interval": 0.01},
        "evaluate_model": {"eval_task": "t", "backend_name": "core_eval"},
    }
    run_workflow(wf, {}, config, user="alice", store=store)
    assert plan_workflow(wf, {}, config, store=store)[0]["status"] == "cached"

    data.write_text(
        json.dumps({**row, "messages": [row["messages"][0], {"role": "assistant", "content": "B"}]})
        + "\n"
    )
    step = plan_workflow(wf, {}, config, store=store)[0]
    assert step["status"] == "will run" and "files.path" in step["reason"], step

    run_workflow(wf, {}, config, user="alice", store=store)
    mod.write_text(mod.read_text() + "# edited\n")
    sys.modules.pop("my_loaders", None)
    step = plan_workflow(wf, {}, config, store=store)[0]
    assert step["status"] == "will run" and "loader_source" in step["reason"], step
