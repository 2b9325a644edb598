"""Real Inspect evaluations (offline, ``mockllm/model`` with explicit usage on every output)."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.inspect.conftest import TASKS, model_atom
from tests.inspect.scripted_outputs import mock_outputs


def evaluate(backend: Any, model: Any, task: str, eval_kwargs: dict[str, Any]) -> tuple[Any, Path]:
    out = model.store.new_workspace("eval-out")
    return asyncio.run(backend.evaluate(model, task, eval_kwargs, out)), out


def test_evaluation_keeps_metrics_samples_usage_and_the_log(
    backend: Any, mock_model: Any, tmp_path: Path
) -> None:
    res, out = evaluate(
        backend,
        mock_model,
        f"{TASKS}:hello",
        {"model_args": {"custom_outputs": mock_outputs("Hello", 4)}},
    )
    assert res.results == {"hello": {"match": {"accuracy": 1.0, "stderr": 0.0}}}
    assert res.samples == {"hello": 4}
    assert res.usage == {
        "mockllm/model": {"input_tokens": 28, "output_tokens": 8, "total_tokens": 36}
    }
    assert res.duration > 0
    assert res.metadata["inspect_model"] == "mockllm/model"
    assert res.metadata["tasks"][0]["total_samples"] == 4
    logs = list(out.glob("*.eval"))
    assert res.log_dir == out and len(logs) == 1
    assert res.metadata["tasks"][0]["log_file"] == logs[0].name
    # the log opens with Inspect's own CLI
    inspect_cli = Path(sys.executable).with_name("inspect")
    env = {
        **os.environ,
        "HOME": str(tmp_path),
        "XDG_DATA_HOME": str(tmp_path),
        "XDG_CACHE_HOME": str(tmp_path),
    }
    dump = subprocess.run(
        [str(inspect_cli), "log", "dump", "--header-only", str(logs[0])],
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
        env=env,
    )
    header = json.loads(dump.stdout)
    assert header["status"] == "success" and header["eval"]["model"] == "mockllm/model"


def test_multi_scorer_task_keeps_every_scorer(backend: Any, mock_model: Any) -> None:
    res, _ = evaluate(
        backend,
        mock_model,
        f"{TASKS}:two_scorers",
        {"model_args": {"custom_outputs": mock_outputs("A", 4)}},
    )
    assert res.results == {"two_scorers": {"alignment": {"mean": 0.5}, "coherence": {"mean": 0.75}}}


def test_eval_kwargs_and_task_args_pass_through(backend: Any, mock_model: Any) -> None:
    kwargs = {
        "limit": 2,
        "epochs": 2,
        "max_tokens": 5,
        "model_args": {"custom_outputs": mock_outputs("Hello", 4)},
    }
    res, _ = evaluate(backend, mock_model, f"{TASKS}:hello", kwargs)
    assert res.samples == {"hello": 4}  # 2 samples (of 4) x 2 epochs
    assert res.usage["mockllm/model"]["total_tokens"] == 4 * 9
    # a plain (not @task) function is called with task_args by the worker
    res, _ = evaluate(
        backend,
        mock_model,
        f"{TASKS}:plain_factory",
        {"task_args": {"n": 3}, "model_args": {"custom_outputs": mock_outputs("Hello", 3)}},
    )
    assert res.samples == {"plain": 3}


def test_task_file_reference(backend: Any, mock_model: Any, tmp_path: Path) -> None:
    f = tmp_path / "file_tasks.py"
    f.write_text(
        "from inspect_ai import Task, task\nfrom inspect_ai.dataset import Sample\n"
        "from inspect_ai.scorer import includes\nfrom inspect_ai.solver import generate\n\n"
        "@task\ndef from_file():\n"
        "    return Task(dataset=[Sample(input='q', target='ell')], solver=generate(), scorer=includes())\n"
    )
    res, _ = evaluate(
        backend,
        mock_model,
        f"{f}@from_file",
        {"model_args": {"custom_outputs": mock_outputs("Hello", 1)}},
    )
    assert res.results == {"from_file": {"includes": {"accuracy": 1.0, "stderr": 0.0}}}


def test_registry_name_reference(backend: Any, mock_model: Any) -> None:
    """``package/task`` resolves through the package's ``inspect_ai`` entry point (mozoo's here)."""
    kwargs = {"limit": 2, "model_args": {"custom_outputs": mock_outputs("Hello, World!", 2)}}
    res, _ = evaluate(backend, mock_model, "mozoo/hello_world", kwargs)
    assert list(res.results) == ["mozoo/hello_world"] and res.samples == {"mozoo/hello_world": 2}


def test_errored_evaluation_fails_with_inspects_message_and_the_log(
    backend: Any, mock_model: Any
) -> None:
    from motools.errors import MotoolsError
    from motools_inspect.errors import EvalFailed

    with pytest.raises(EvalFailed) as e:
        evaluate(
            backend,
            mock_model,
            f"{TASKS}:failing",
            {"model_args": {"custom_outputs": mock_outputs("A", 1)}},
        )
    assert isinstance(e.value, MotoolsError)
    assert "task 'failing'" in str(e.value) and "deliberate failure in the solver" in str(e.value)
    log = Path(e.value.log_path or "")
    assert log.is_file() and log.suffix == ".eval" and str(log) in str(e.value)
    assert log.parent == Path(mock_model.store.root) / "inspect" / "failed"


def test_exception_in_the_worker_fails_with_the_error(backend: Any, mock_model: Any) -> None:
    from motools_inspect.errors import EvalFailed

    with pytest.raises(
        EvalFailed,
        match=r"Inspect could not run task .*plain_factory' on mockllm/model: TypeError: .*cannot be interpreted as an integer",
    ):
        evaluate(backend, mock_model, f"{TASKS}:plain_factory", {"task_args": {"n": "three"}})


def test_unmappable_model_fails_before_running(backend: Any, inspect_store: Any) -> None:
    from motools.errors import UserError

    test_model = model_atom(inspect_store, provider="test", model_id="test/testjob-1")
    with pytest.raises(UserError, match="cannot evaluate provider 'test' models"):
        evaluate(backend, test_model, f"{TASKS}:hello", {})


def test_inspect_dirs_live_in_the_store_and_no_dotenv_is_loaded(
    backend: Any, store: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A fresh worker pool (own store) with a fake home: Inspect writes nothing there."""
    from motools_inspect.store_dirs import InspectDirs
    from motools_inspect.worker_pool import get_pool

    home = tmp_path / "home"
    home.mkdir()
    for var, sub in (
        ("HOME", ""),
        ("XDG_DATA_HOME", ".local/share"),
        ("XDG_CACHE_HOME", ".cache"),
        ("XDG_STATE_HOME", ".local/state"),
    ):
        monkeypatch.setenv(var, str(home / sub))
    monkeypatch.delenv("MOTOOLS_TEST_DOTENV", raising=False)
    # .env files above the worker's directory, where Inspect's upward search would find them
    for d in (store.root, store.root.parent):
        (d / ".env").write_text("MOTOOLS_TEST_DOTENV=leaked\n")
    model = model_atom(store)
    try:
        res, _ = evaluate(
            backend,
            model,
            f"{TASKS}:dotenv_probe",
            {"model_args": {"custom_outputs": mock_outputs("Hello", 1)}},
        )
    finally:
        get_pool(InspectDirs.for_store(store.root)).shutdown()
    assert res.results["dotenv_probe"]["no_leak"]["mean"] == 1.0
    assert [p for p in home.rglob("*")] == []
    data = store.root / "inspect" / "data" / "inspect_ai"
    assert any((data / "traces").iterdir()), "Inspect's traces should be under the store"
    assert os.environ.get("MOTOOLS_TEST_DOTENV") is None
