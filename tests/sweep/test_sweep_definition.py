"""Sweep definitions: grid expansion, replicate seeds, YAML files, validating every point."""

from __future__ import annotations

import pytest

from motools.errors import ConfigError
from motools.sweep import SweepDefinition, load_sweep_file, plan_sweep, run_sweep
from motools.sweep.definition import expand_points, short_names
from tests.support import test_backend
from tests.sweep.sweep_support import base_config, sweep_test_workflow

EPOCHS = "submit_training.hyperparameters.n_epochs"
LIMIT = "evaluate_model.eval_kwargs.limit"
DATA_SEED = "prepare_dataset.loader_kwargs.seed"


def test_grid_product_in_order_with_replicates_innermost(sweep_env):
    defn = SweepDefinition(
        "sweep_test", base_config(), {EPOCHS: [1, 3], LIMIT: [5, 6]}, replicates=2
    )
    points = expand_points(defn, sweep_test_workflow)
    assert [(p.params[EPOCHS], p.params[LIMIT], p.replicate) for p in points] == [
        (1, 5, 0),
        (1, 5, 1),
        (1, 6, 0),
        (1, 6, 1),
        (3, 5, 0),
        (3, 5, 1),
        (3, 6, 0),
        (3, 6, 1),
    ]
    assert [p.index for p in points] == list(range(8))
    # Replicates vary every seed key of the config; replicate 0 is the base config.
    assert [p.seeds for p in points[:2]] == [{DATA_SEED: 0}, {DATA_SEED: 1}]
    assert points[1].config["prepare_dataset"]["loader_kwargs"]["seed"] == 1
    assert points[4].config["submit_training"]["hyperparameters"]["n_epochs"] == 3
    assert base_config()["submit_training"]["hyperparameters"]["n_epochs"] == 1  # base untouched


def test_explicit_seed_paths_may_add_a_seed_key(sweep_env):
    cfg = base_config()
    cfg["prepare_dataset"]["loader_kwargs"].pop("seed")
    defn = SweepDefinition("sweep_test", cfg, {}, replicates=3, seed_paths=[DATA_SEED])
    points = expand_points(defn, sweep_test_workflow)
    assert [p.config["prepare_dataset"]["loader_kwargs"]["seed"] for p in points] == [0, 1, 2]


def test_replicates_without_any_seed_is_an_error(sweep_env):
    cfg = base_config()
    cfg["prepare_dataset"]["loader_kwargs"].pop("seed")
    with pytest.raises(ConfigError, match="replicates: 3 replicates need a seed"):
        expand_points(SweepDefinition("sweep_test", cfg, {}, replicates=3), sweep_test_workflow)


def test_a_swept_seed_is_not_also_a_replicate_seed(sweep_env):
    defn = SweepDefinition("sweep_test", base_config(), {DATA_SEED: [0, 1]}, replicates=2)
    with pytest.raises(ConfigError, match="need a seed"):
        expand_points(defn, sweep_test_workflow)
    clash = SweepDefinition(
        "sweep_test", base_config(), {DATA_SEED: [0, 1]}, replicates=2, seed_paths=[DATA_SEED]
    )
    with pytest.raises(ConfigError, match="also swept in sweep.grid"):
        expand_points(clash, sweep_test_workflow)


@pytest.mark.parametrize(
    ("grid", "replicates", "message"),
    [
        (
            {EPOCHS: 3},
            1,
            r"sweep.grid.submit_training.hyperparameters.n_epochs: expected a non-empty list",
        ),
        ({EPOCHS: []}, 1, r"expected a non-empty list"),
        ({EPOCHS: [1, 1]}, 1, r"value 1 is listed twice"),
        ({"a..b": [1]}, 1, r"is not a dotted path"),
        ({}, 0, r"sweep.replicates: expected an integer >= 1"),
    ],
)
def test_bad_grid_shapes(sweep_env, grid, replicates, message):
    with pytest.raises(ConfigError, match=message):
        SweepDefinition("sweep_test", base_config(), grid, replicates=replicates, source="s.yaml")


def test_grid_path_must_start_with_a_step(sweep_env):
    defn = SweepDefinition(
        "sweep_test", base_config(), {"submit_trainin.model": ["a"]}, source="s.yaml"
    )
    with pytest.raises(
        ConfigError, match=r"s.yaml: sweep: submit_trainin.model: .*did you mean 'submit_training'"
    ):
        expand_points(defn, sweep_test_workflow)


def test_short_names_are_unambiguous_suffixes():
    names = short_names(
        [EPOCHS, LIMIT, DATA_SEED, "submit_training.hyperparameters.seed", "x.metric"]
    )
    assert names[EPOCHS] == "n_epochs"
    assert names[LIMIT] == "limit"
    assert names[DATA_SEED] == "loader_kwargs.seed"
    assert names["submit_training.hyperparameters.seed"] == "hyperparameters.seed"
    assert names["x.metric"] == "x.metric"  # 'metric' is a column of collated tables


def test_sweep_id_is_stable_and_per_user(sweep_env):
    a = SweepDefinition("sweep_test", base_config(), {EPOCHS: [1, 2]}, source="a.yaml")
    b = SweepDefinition(
        "sweep_test", base_config(), {EPOCHS: [1, 2]}, source="b.yaml", name="other"
    )
    c = SweepDefinition("sweep_test", base_config(), {EPOCHS: [1, 3]})
    assert a.sweep_id("alice") == b.sweep_id("alice") != a.sweep_id("bob")
    assert a.sweep_id("alice") != c.sweep_id("alice")
    assert a.sweep_id("alice").startswith("sw-")


SWEEP_YAML = """
workflow: sweep_test
config:
  prepare_dataset:
    loader_kwargs:
      sample_size: ${ROWS:-3}
      seed: 0
  submit_training:
    model: ${BASE_MODEL}
    backend_name: test
    hyperparameters: {n_epochs: 1}
  wait_for_training: {poll_interval: 0.01}
  evaluate_model:
    eval_task: sweep_task
    backend_name: sweep_eval
    eval_kwargs: {limit: 1}
sweep:
  grid:
    submit_training.hyperparameters.n_epochs: [1, 2]
    evaluate_model.eval_kwargs.limit: [1, 2]
  replicates: 2
"""


def test_yaml_file_with_env_substitution(sweep_env, tmp_path, monkeypatch):
    monkeypatch.setenv("BASE_MODEL", "my-base")
    path = tmp_path / "epochs.yaml"
    path.write_text(SWEEP_YAML)
    defn = load_sweep_file(path)
    assert defn.workflow == "sweep_test" and defn.name == "epochs" and defn.source == str(path)
    assert defn.config["submit_training"]["model"] == "my-base"
    assert defn.config["prepare_dataset"]["loader_kwargs"]["sample_size"] == 3
    assert defn.grid == {EPOCHS: [1, 2], LIMIT: [1, 2]} and defn.replicates == 2
    monkeypatch.delenv("BASE_MODEL")
    with pytest.raises(
        ConfigError,
        match=r"epochs.yaml: config.submit_training.model: environment variable \$\{BASE_MODEL\}",
    ):
        load_sweep_file(path)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "workflow: sweep_test\nconfig: {}\nsweep: {grid: {}}\nreplicates: 3\n",
            r"bad.yaml: replicates: unknown key; allowed keys",
        ),
        (
            "workflow: sweep_test\nconfig: {}\nsweep: {grid: {}, replicate: 3}\n",
            r"bad.yaml: sweep.replicate: unknown key \(did you mean 'replicates'\?\)",
        ),
        ("config: {}\nsweep: {grid: {}}\n", r"bad.yaml: workflow: required"),
        ("workflow: sweep_test\nsweep: {grid: {}}\n", r"bad.yaml: config: required"),
        ("workflow: sweep_test\nconfig: {}\n", r"bad.yaml: sweep: required"),
        (
            "workflow: sweep_test\nconfig: {}\nsweep: {grid: {a.b: 1}}\n",
            r"bad.yaml: sweep.grid.a.b: expected a non-empty list",
        ),
        ("workflow: sweep_test\nconfig: [\n", r"bad.yaml: not valid YAML"),
    ],
)
def test_bad_sweep_files_name_file_and_key(sweep_env, tmp_path, text, message):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message):
        load_sweep_file(path)


def test_every_point_is_validated_before_anything_runs(sweep_env):
    # limit 0 is rejected by the evaluation backend; only the last points have it.
    grid = {EPOCHS: [1, 2, 3], LIMIT: [1, 0]}
    with pytest.raises(ConfigError) as err:
        run_sweep(sweep_test_workflow, base_config(), grid, user="alice")
    msg = str(err.value)
    assert "3 of 6 point(s) are invalid; nothing was run" in msg
    assert "point 1 (n_epochs=1, limit=0, replicate=0) and points 3, 5" in msg
    assert "evaluate_model: eval_kwargs.limit: expected a positive integer, got 0" in msg
    assert test_backend.SUBMITTED == []
    with pytest.raises(ConfigError, match="nothing was run"):
        plan_sweep(SweepDefinition(sweep_test_workflow, base_config(), grid), user="alice")


def test_schema_errors_in_every_point_are_reported_once(sweep_env):
    grid = {"submit_training.hyperparameter.n_epochs": [1, 2]}
    with pytest.raises(ConfigError) as err:
        run_sweep(sweep_test_workflow, base_config(), grid, user="alice")
    msg = str(err.value)
    assert "every point (e.g. point 0" in msg
    assert (
        "submit_training.hyperparameter: unknown key 'hyperparameter' (did you mean 'hyperparameters'?)"
        in msg
    )


def test_example_sweep_file_plans(plugins, store):
    """``examples/sweep_epochs.yaml`` is valid for every point (running it takes minutes: see docs)."""
    from pathlib import Path

    for mod in ("motools_hf.plugin", "motools_inspect.plugin", "mozoo.plugin"):
        pytest.importorskip(mod)
    plugins("motools_hf.plugin", "motools_inspect.plugin", "mozoo.plugin")
    path = Path(__file__).resolve().parents[2] / "examples" / "sweep_epochs.yaml"
    defn = load_sweep_file(path)
    plan = plan_sweep(defn, user="alice")
    assert plan["workflow"] == "train_and_evaluate" and plan["totals"]["points"] == 12
    assert {tuple(p["seeds"].values()) for p in plan["points"]} == {(0, 0), (1, 1), (2, 2)}
    assert all(p["status"] == "will run" for p in plan["points"])
