"""Validation and model mapping of the inspect backend: nothing here starts Inspect."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from motools.errors import ConfigError, UserError
from tests.inspect.conftest import TASKS, model_atom

# -- cheap registration -------------------------------------------------------------


def test_plugin_and_backend_modules_do_not_import_inspect() -> None:
    code = (
        "import sys, motools_inspect.plugin, motools_inspect.backend, motools_inspect\n"
        "from motools_inspect.backend import InspectBackend\n"
        "InspectBackend().validate('tests.inspect.tasks_for_tests:hello', {'limit': 2, 'temperature': 0.1})\n"
        "print('inspect_ai' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False", out.stderr


def test_plugin_registers_the_inspect_backend(plugins: Any) -> None:
    from motools import plugins as registry
    from motools.backends import get_eval_backend
    from motools_inspect.backend import InspectBackend

    plugins("motools_inspect.plugin")
    spec = registry.eval_backends()["inspect"]
    assert spec.impl == "motools_inspect.backend:InspectBackend"
    assert isinstance(get_eval_backend("inspect"), InspectBackend)


# -- eval_kwargs ---------------------------------------------------------------------


def test_known_eval_kwargs_pass() -> None:
    from motools_inspect.backend import InspectBackend

    InspectBackend().validate(
        f"{TASKS}:hello",
        {
            "limit": 3, "epochs": 2, "max_connections": 4, "temperature": 0.0, "seed": 1,
            "model_args": {"x": 1}, "max_tokens": 16, "task_args": {"n": 2}, "fail_on_error": 0.5,
        },
    )  # fmt: skip


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"temprature": 0.1},
            "eval_kwargs.temprature: unknown inspect_ai.eval argument (did you mean 'temperature'?)",
        ),
        (
            {"model": "openai/gpt-4o"},
            "eval_kwargs.model: cannot be set: the model comes from the model atom",
        ),
        ({"log_dir": "/tmp/x"}, "eval_kwargs.log_dir: cannot be set"),
        ({"limit": object()}, "eval_kwargs.limit: value must be plain data"),
        ({"task_args": [1, 2]}, "eval_kwargs.task_args: expected a mapping"),
        ([("limit", 1)], "eval_kwargs: expected a mapping"),
    ],
)
def test_bad_eval_kwargs_are_config_errors(kwargs: Any, message: str) -> None:
    from motools_inspect.backend import InspectBackend

    with pytest.raises(ConfigError) as e:
        InspectBackend().validate(f"{TASKS}:hello", kwargs)
    assert message in str(e.value)


def test_static_kwarg_lists_match_the_installed_inspect() -> None:
    """The lists validated without importing Inspect are exactly the installed Inspect's arguments."""
    from importlib.metadata import version

    from motools_inspect.eval_kwargs import (
        ALLOWED,
        LISTED_VERSION,
        RESERVED,
        installed_inspect_args,
    )

    live = installed_inspect_args()
    assert set(live) - set(RESERVED) == set(ALLOWED)
    assert version("inspect-ai") == LISTED_VERSION, "update LISTED_VERSION with the lists"


# -- task references -----------------------------------------------------------------


def test_task_reference_forms(tmp_path: Path) -> None:
    from motools_inspect.task_refs import parse_task_ref

    assert parse_task_ref(f"{TASKS}:hello").kind == "module"
    f = tmp_path / "my_tasks.py"
    f.write_text("from inspect_ai import task\n\n@task\ndef mine():\n    pass\n")
    ref = parse_task_ref(f"{f}@mine")
    assert (ref.kind, ref.target, ref.name) == ("file", str(f), "mine")
    assert parse_task_ref(str(f)).name is None
    # a registry name of an installed Inspect extension package (mozoo registers 'mozoo')
    assert parse_task_ref("mozoo/gsm8k_spanish").kind == "registry"


@pytest.mark.parametrize(
    ("ref", "message"),
    [
        ("no_such_module_xyz:task", "no module named 'no_such_module_xyz'"),
        (f"{TASKS}:nope", "defines no 'nope'; its @task functions: ['hello', 'two_scorers'"),
        ("missing/dir/tasks.py", "task file 'missing/dir/tasks.py' does not exist"),
        ("no_such_package/task", "no installed Inspect extension package 'no_such_package'"),
        ("just words", "is not a task reference"),
        ("", "expected a task reference"),
    ],
)
def test_bad_task_references_are_config_errors(ref: str, message: str) -> None:
    from motools_inspect.backend import InspectBackend

    with pytest.raises(ConfigError) as e:
        InspectBackend().validate(ref, {})
    assert message in str(e.value)


def test_file_reference_names_a_missing_task(tmp_path: Path) -> None:
    from motools_inspect.task_refs import parse_task_ref

    f = tmp_path / "t.py"
    f.write_text("from inspect_ai import task\n\n@task\ndef real():\n    pass\n")
    with pytest.raises(
        ConfigError, match=r"defines no task 'other'; its @task functions: \['real'\]"
    ):
        parse_task_ref(f"{f}@other")


# -- model mapping -------------------------------------------------------------------


def _map(store: Any, **meta: Any) -> Any:
    from motools_inspect.model_mapping import inspect_model_for

    return inspect_model_for(model_atom(store, **meta))


def test_model_mapping_by_provider(store: Any) -> None:
    m = _map(store, provider="openai", model_id="ft:gpt-4o-mini:org::abc")
    assert (m.model, m.base_url) == ("openai/ft:gpt-4o-mini:org::abc", None)
    m = _map(store, provider="openai", model_id="ft:x", endpoint="https://api.openai.com/v1/")
    assert m.base_url is None
    m = _map(store, provider="openai", model_id="ft:x", endpoint="http://127.0.0.1:8000/v1")
    assert (m.model, m.base_url) == ("openai/ft:x", "http://127.0.0.1:8000/v1")
    # an Inspect model string passes through: no provider is forced onto another
    assert _map(store, provider="inspect", model_id="together/x").model == "together/x"
    assert (
        _map(store, provider="inspect", model_id="anthropic/claude-3-5-haiku").model
        == "anthropic/claude-3-5-haiku"
    )
    assert (
        _map(store, provider="hf", model_id="HuggingFaceTB/SmolLM2-135M").model
        == "hf/HuggingFaceTB/SmolLM2-135M"
    )


def test_openai_endpoint_details_follow_the_model(
    store: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from motools_inspect.backend import _worker_env

    meta = {
        "provider": "openai",
        "model_id": "ft:x",
        "organization": "org-1",
        "api_key_env": "EXAMPLE_API_KEY",
    }
    m = _map(store, endpoint="https://ft.example.org/v1", **meta)
    assert (m.base_url, m.model_args, m.env_from) == (
        "https://ft.example.org/v1",
        {"organization": "org-1"},
        {"OPENAI_API_KEY": "EXAMPLE_API_KEY"},
    )
    monkeypatch.delenv("EXAMPLE_API_KEY", raising=False)
    with pytest.raises(
        UserError, match=r"reads its API key from \$EXAMPLE_API_KEY, which is not set"
    ):
        _worker_env(m, Path("/tmp/out"))
    monkeypatch.setenv("EXAMPLE_API_KEY", "sk-example-key-0123456789")
    assert _worker_env(m, Path("/tmp/out"))["OPENAI_API_KEY"] == "sk-example-key-0123456789"
    # a model trained at OpenAI is evaluated there even when $OPENAI_BASE_URL points elsewhere
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    assert (
        _map(
            store, provider="openai", model_id="ft:y", endpoint="https://api.openai.com/v1"
        ).base_url
        == "https://api.openai.com/v1"
    )


def test_hf_model_uses_the_stored_weights(store: Any, tmp_path: Path) -> None:
    from motools_inspect.model_mapping import inspect_model_for

    src = tmp_path / "m" / "weights"
    src.mkdir(parents=True)
    (src / "config.json").write_text("{}")
    atom = store.create_atom(
        "model",
        "tester",
        tmp_path / "m",
        {"provider": "hf", "model_id": "local", "base_model": "b"},
    )
    assert inspect_model_for(atom).model == f"hf/{atom.weights_dir}"
    explicit = store.create_atom(
        "model", "tester", tmp_path / "m",
        {"provider": "hf", "model_id": "l", "inspect_model": "vllm/{weights_dir}", "inspect_model_args": {"device": "cpu"}},
    )  # fmt: skip
    m = inspect_model_for(explicit)
    assert (m.model, m.model_args) == (f"vllm/{explicit.weights_dir}", {"device": "cpu"})


def test_unmappable_provider_is_a_user_error(store: Any) -> None:
    with pytest.raises(
        UserError,
        match="cannot evaluate provider 'test' models; the producing backend should set metadata 'inspect_model'",
    ):
        _map(store, provider="test", model_id="test/job-1")
    with pytest.raises(UserError, match="needs an Inspect model string"):
        _map(store, provider="inspect", model_id="gpt-4o")


def test_eval_kwargs_model_args_overlay_the_atoms(store: Any) -> None:
    from motools_inspect.backend import _merge_model_args

    target = _map(store, inspect_model="mockllm/model", inspect_model_args={"a": 1, "b": 2})
    assert _merge_model_args(target, {"b": 3}) == {"a": 1, "b": 3}
    with pytest.raises(ConfigError, match="file path cannot be combined"):
        _merge_model_args(target, "args.yaml")
