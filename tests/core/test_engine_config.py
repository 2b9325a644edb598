"""Typed configuration and validation before any step runs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from motools.errors import ConfigError
from motools.workflow import (
    AtomConstructor,
    Step,
    StepConfig,
    Workflow,
    WorkflowConfig,
    run_workflow,
)
from motools.workflow.config import REDACTED, apply_overrides
from motools.workflow.loading import load_workflow_config
from tests.support.core_workflows import MakeConfig, executions, make, pipeline, training


def _yaml(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "config.yaml"
    p.write_text(text)
    return p


def _problems(excinfo: pytest.ExceptionInfo[ConfigError]) -> str:
    return str(excinfo.value)


def test_missing_field_names_file_and_path(tmp_path: Path) -> None:
    p = _yaml(tmp_path, "transform:\n  suffix: '?'\n")
    with pytest.raises(ConfigError) as e:
        load_workflow_config(pipeline, p)
    assert f"{p}: make: required field is missing" in _problems(e)


def test_wrong_type_names_file_dotted_path_and_value(tmp_path: Path) -> None:
    p = _yaml(tmp_path, "make:\n  rows: lots\n")
    with pytest.raises(ConfigError) as e:
        load_workflow_config(pipeline, p)
    assert f"{p}: make.rows: Input should be a valid integer" in _problems(e)
    assert "(got 'lots')" in _problems(e)


def test_backend_checks_hyperparameters_before_anything_runs(
    tmp_path: Path, store: Any, log: Path, core_plugins: Any
) -> None:
    p = _yaml(
        tmp_path,
        "submit_training:\n  model: base\n  backend_name: test\n  hyperparameters:\n    n_epocs: 3\n",
    )
    with pytest.raises(ConfigError) as e:
        run_workflow(
            training, {}, load_workflow_config(training, p), user="alice", config_source=str(p)
        )
    assert f"{p}: submit_training: hyperparameters: unknown keys ['n_epocs']" in _problems(e)
    assert executions(log) == []


def test_unknown_keys_suggest_the_closest_name(tmp_path: Path) -> None:
    p = _yaml(tmp_path, "make:\n  rwos: 3\ntransfrom: {}\n")
    with pytest.raises(ConfigError) as e:
        load_workflow_config(pipeline, p)
    msg = _problems(e)
    assert (
        f"{p}: make.rwos: unknown key 'rwos' (did you mean 'rows'?); allowed keys: rows, text, sleep, note"
        in msg
    )
    assert f"{p}: transfrom: unknown key 'transfrom' (did you mean 'transform'?)" in msg


def test_all_problems_are_reported_at_once(tmp_path: Path) -> None:
    p = _yaml(tmp_path, "make:\n  rows: x\n  txt: 1\n")
    with pytest.raises(ConfigError) as e:
        load_workflow_config(pipeline, p)
    assert "make.rows" in _problems(e) and "make.txt" in _problems(e)


def test_env_substitution_with_defaults_and_types(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CORE_ROWS", "5")
    monkeypatch.setenv("CORE_TEXT", "007")
    monkeypatch.delenv("CORE_MISSING", raising=False)
    p = _yaml(
        tmp_path,
        "make:\n  rows: ${CORE_ROWS}\n  text: ${CORE_TEXT}\n  sleep: ${CORE_MISSING:-0.5}\n"
        "transform:\n  suffix: 'run-${CORE_TEXT}-${CORE_MISSING:-x}'\n",
    )
    cfg = load_workflow_config(pipeline, p)
    assert cfg.make.rows == 5 and cfg.make.sleep == 0.5
    assert cfg.make.text == "007", "a string field keeps the variable's text"
    assert cfg.transform.suffix == "run-007-x"
    assert pipeline.config_class.from_yaml(p).make.text == "007"


def test_missing_env_var_without_default_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CORE_NOT_SET", raising=False)
    p = _yaml(tmp_path, "make:\n  text: ${CORE_NOT_SET}\n")
    with pytest.raises(
        ConfigError,
        match=r"config.yaml: make.text: environment variable \$\{CORE_NOT_SET\} is not set",
    ):
        load_workflow_config(pipeline, p)


def test_set_overrides_are_typed_by_the_schema(tmp_path: Path) -> None:
    p = _yaml(tmp_path, "make:\n  rows: 2\n")
    cfg = load_workflow_config(
        pipeline, p, ["make.rows=7", "make.text=123", "transform.suffix=true", "make.sleep=0.25"]
    )
    assert (
        cfg.make.rows == 7
        and cfg.make.text == "123"
        and cfg.transform.suffix == "true"
        and cfg.make.sleep == 0.25
    )
    data = apply_overrides(
        {}, ["submit_training.hyperparameters.n_epochs=5"], training.config_class
    )
    assert data == {"submit_training": {"hyperparameters": {"n_epochs": 5}}}
    with pytest.raises(ConfigError, match="make.rows: Input should be a valid integer"):
        load_workflow_config(pipeline, p, ["make.rows=many"])
    with pytest.raises(ConfigError, match="expected KEY=VALUE"):
        load_workflow_config(pipeline, p, ["make.rows"])
    with pytest.raises(ConfigError, match="make.rows is 2, not a mapping"):
        load_workflow_config(pipeline, p, ["make.rows.deeper=1"])


def test_config_from_python_objects_and_dicts(store: Any) -> None:
    cfg = pipeline.config_class(make=MakeConfig(rows=1))
    assert run_workflow(pipeline, {}, cfg, user="alice").status == "succeeded"
    with pytest.raises(ConfigError, match="expects a PipelineConfig"):
        run_workflow(pipeline, {}, 42, user="alice")
    with pytest.raises(ConfigError, match=r"<config>: make.rows"):
        run_workflow(pipeline, {}, {"make": {"rows": "x"}}, user="alice")


class InConfig(StepConfig):
    pass


def _passthrough(name: str, inputs: dict[str, str], outputs: dict[str, str]) -> Step:
    def fn(config: Any, input_atoms: dict[str, Any], temp_workspace: Path) -> list[AtomConstructor]:
        return []

    return Step(name, fn, inputs, outputs, InConfig)


def _wf(steps: list[Step], inputs: dict[str, str] | None = None) -> Workflow:
    fields = {s.name: (InConfig, InConfig()) for s in steps}
    from pydantic import create_model

    cfg = create_model("GraphConfig", __base__=WorkflowConfig, **fields)  # type: ignore[call-overload]
    return Workflow("graph", inputs or {}, steps, cfg)


def test_unprovided_input_and_cycle_hint(store: Any, log: Path) -> None:
    wf = _wf(
        [
            _passthrough("first", {"later_out": "dataset"}, {"a": "dataset"}),
            _passthrough("second", {"a": "dataset", "nobody": "dataset"}, {"later_out": "dataset"}),
        ]
    )
    with pytest.raises(ConfigError) as e:
        run_workflow(wf, {}, {}, user="alice")
    msg = _problems(e)
    assert (
        "step 'first': input 'later_out' is provided by no earlier step or workflow input (step 'second' produces it, but runs later: this would be a cycle)"
        in msg
    )
    assert "step 'second': input 'nobody' is provided by no earlier step or workflow input" in msg


def test_type_mismatches_between_steps_and_inputs(store: Any) -> None:
    wf = _wf(
        [
            _passthrough("a", {"raw": "dataset"}, {"x": "dataset"}),
            _passthrough("b", {"x": "model"}, {"y": "model"}),
        ],
        inputs={"raw": "dataset"},
    )
    model = store.create_atom(
        "model", "alice", metadata={"provider": "p", "model_id": "m", "base_model": "b"}
    )
    with pytest.raises(ConfigError) as e:
        run_workflow(wf, {"raw": model.id, "extra": model.id}, {}, user="alice")
    msg = _problems(e)
    assert f"input_atoms.raw: {model.id} is a 'model' atom, expected 'dataset'" in msg
    assert "step 'b': input 'x' must be 'model', but step 'a' provides 'dataset'" in msg
    assert "input_atoms: 'extra' is not an input of workflow 'graph'" in msg
    with pytest.raises(
        ConfigError,
        match="input_atoms.raw: atom dataset-alice-0123456789abcdef is not in the store",
    ):
        run_workflow(
            wf.__class__("ok", {"raw": "dataset"}, [wf.steps[0]], wf.config_class),
            {"raw": "dataset-alice-0123456789abcdef"},
            {},
            user="alice",
        )
    with pytest.raises(ConfigError, match="input_atoms: missing workflow input 'raw'"):
        run_workflow(wf, {}, {}, user="alice")
    with pytest.raises(ConfigError, match="input_atoms.raw: malformed atom id"):
        run_workflow(wf, {"raw": "garbage"}, {}, user="alice")


def test_unknown_atom_types_in_a_workflow(store: Any) -> None:
    wf = _wf([_passthrough("a", {}, {"ckpt": "checkpoint"})])
    with pytest.raises(
        ConfigError,
        match=r"step 'a': atom 'ckpt' has unknown type 'checkpoint' \(registered: \['dataset'",
    ):
        run_workflow(wf, {}, {}, user="alice")


def test_unknown_backend_is_reported_before_any_step_runs(
    tmp_path: Path, store: Any, log: Path, core_plugins: Any
) -> None:
    p = _yaml(tmp_path, "submit_training:\n  model: base\n  backend_name: openia\n")
    cfg = load_workflow_config(training, p)
    with pytest.raises(ConfigError) as e:
        run_workflow(training, {}, cfg, user="alice", config_source=str(p))
    assert (
        f"{p}: submit_training.backend_name: unknown training backend 'openia'; installed: ['test']"
        in _problems(e)
    )
    cfg = load_workflow_config(
        training,
        None,
        [
            "submit_training.model=base",
            "submit_training.backend_name=test",
            "evaluate_model.eval_task=t",
            "evaluate_model.backend_name=nope",
        ],
    )
    with pytest.raises(
        ConfigError,
        match="evaluate_model.backend_name: unknown eval backend 'nope'; installed: \\['core_eval'\\]",
    ):
        run_workflow(training, {}, cfg, user="alice")
    assert executions(log) == [], "nothing may run before validation passes"
    from motools.workflow.runs import list_runs

    assert list_runs(store) == []


def test_duplicate_steps_and_missing_config_fields_are_refused() -> None:
    with pytest.raises(ConfigError, match=r"duplicate step names \['make'\]"):
        Workflow(
            "dup",
            {},
            [Step("make", make, {}, {"data": "dataset"}, MakeConfig)] * 2,
            pipeline.config_class,
        )

    class NoFields(WorkflowConfig):
        pass

    with pytest.raises(
        ConfigError, match=r"config class NoFields has no field for step\(s\) \['make'\]"
    ):
        Workflow(
            "nofields", {}, [Step("make", make, {}, {"data": "dataset"}, MakeConfig)], NoFields
        )


def test_secret_values_are_redacted_in_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CORE_API_KEY", "sk-supersecret-0001")
    p = _yaml(
        tmp_path,
        "submit_training:\n  model: base\n  hyperparameters: ${CORE_API_KEY}\n  options:\n    api_key: [1]\n",
    )
    with pytest.raises(ConfigError) as e:
        load_workflow_config(training, p)
    assert "submit_training.hyperparameters: Input should be a valid dictionary" in _problems(e)
    assert "sk-supersecret-0001" not in _problems(e) and REDACTED in _problems(e)
