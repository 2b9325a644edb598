"""Collating sweep results, statistics across replicates, and plots (PNG and HTML)."""

from __future__ import annotations

import math
import sys

import pytest

from motools.errors import UserError
from motools.sweep import collate, collate_rows, plot_metric, run_sweep, summarize, summarize_rows
from motools.sweep.analysis import require_pandas
from motools.sweep.stats import describe, t_quantile
from tests.sweep.sweep_support import TASK, accuracy_for, base_config, sweep_test_workflow

EPOCHS = "submit_training.hyperparameters.n_epochs"
LIMIT = "evaluate_model.eval_kwargs.limit"
DATA_SEED = "prepare_dataset.loader_kwargs.seed"
FAIL = "submit_training.hyperparameters.fail"


@pytest.mark.parametrize(
    ("p", "df", "expected"),
    [
        (0.975, 1, 12.7062),
        (0.975, 2, 4.3027),
        (0.975, 4, 2.7764),
        (0.975, 9, 2.2622),
        (0.975, 30, 2.0423),
        (0.995, 3, 5.8409),
        (0.95, 5, 2.0150),
        (0.025, 2, -4.3027),
    ],
)
def test_t_quantiles_match_tables(p, df, expected):
    assert t_quantile(p, df) == pytest.approx(expected, abs=1e-4)


def test_describe():
    d = describe([0.3, 0.5, 0.4, None])
    assert d["n"] == 3 and d["mean"] == pytest.approx(0.4)
    assert d["std"] == pytest.approx(0.1) and d["sem"] == pytest.approx(0.1 / math.sqrt(3))
    half = 4.302653 * 0.1 / math.sqrt(3)
    assert (d["ci_low"], d["ci_high"]) == (pytest.approx(0.4 - half), pytest.approx(0.4 + half))
    one = describe([0.7])
    assert (
        one["n"] == 1
        and one["mean"] == 0.7
        and math.isnan(one["sem"])
        and math.isnan(one["ci_low"])
    )
    assert describe([])["n"] == 0
    same = describe([0.8, 0.8, 0.8])
    assert (same["std"], same["ci_low"], same["ci_high"]) == (0.0, 0.8, 0.8)


@pytest.fixture
def epochs_sweep(sweep_env):
    return run_sweep(
        sweep_test_workflow,
        base_config(),
        {EPOCHS: [1, 2, 3], LIMIT: [1, 2]},
        replicates=3,
        user="alice",
        max_parallel=6,
    )


def test_collate_one_row_per_point_task_scorer_metric(epochs_sweep):
    df = collate(epochs_sweep)
    assert len(df) == 18 * 3  # points x (match.accuracy, match.stderr, judge.mean)
    assert list(df.columns) == [
        "point",
        "replicate",
        "n_epochs",
        "limit",
        "output",
        "task",
        "scorer",
        "metric",
        "value",
        "run_id",
        "eval_id",
    ]
    assert df.attrs["params"] == {"n_epochs": EPOCHS, "limit": LIMIT}
    acc = df[(df.metric == "accuracy") & (df.n_epochs == 2) & (df.limit == 1)].sort_values(
        "replicate"
    )
    assert list(acc.value) == [accuracy_for(2, s) for s in (0, 1, 2)]
    assert (
        set(df.task) == {TASK}
        and set(df.scorer) == {"match", "judge"}
        and set(df.output) == {"eval_results"}
    )
    # The same table from the record in the store, by sweep id.
    again = collate(epochs_sweep.sweep_id)
    assert again.equals(df) and list(again.columns) == list(df.columns)


def test_summarize_across_replicates(epochs_sweep):
    stats = summarize(collate(epochs_sweep))
    # 3 x 2 points x 2 metrics: the evaluator's own stderr is not averaged
    assert len(stats) == 3 * 2 * 2 and "stderr" not in set(stats.metric)
    row = stats[(stats.metric == "accuracy") & (stats.n_epochs == 3) & (stats.limit == 2)].iloc[0]
    values = [accuracy_for(3, s) for s in (0, 1, 2)]
    ref = describe(values)
    assert (
        row.n == 3
        and row["mean"] == pytest.approx(ref["mean"])
        and row["sem"] == pytest.approx(ref["sem"])
    )
    assert row["ci_low"] == pytest.approx(ref["ci_low"]) and row["ci_high"] == pytest.approx(
        ref["ci_high"]
    )
    assert "replicate" not in stats.columns and "point" not in stats.columns
    # Plain-python rows give the same numbers (used by the CLI without pandas).
    plain = summarize_rows(collate_rows(epochs_sweep))
    assert len(plain) == len(stats)


def test_proportion_intervals_stay_within_0_and_1():
    rows = [
        {
            "n_epochs": 12,
            "replicate": r,
            "task": "t",
            "scorer": "s",
            "metric": "accuracy",
            "value": v,
        }
        for r, v in enumerate([1.0, 1.0, 0.95])
    ]
    [row] = summarize_rows(rows)
    assert row["mean"] == pytest.approx(0.9833333) and row["ci_high"] == 1.0
    assert describe([1.0, 1.0, 0.95])["ci_high"] > 1.0  # what the raw t-interval says


def test_a_swept_seed_is_a_replicate_axis(sweep_env):
    res = run_sweep(
        sweep_test_workflow, base_config(), {EPOCHS: [1, 2], DATA_SEED: [0, 1, 2]}, user="alice"
    )
    stats = summarize(collate(res))
    acc = stats[stats.metric == "accuracy"]
    assert list(acc.n_epochs) == [1, 2] and list(acc.n) == [3, 3]
    assert "loader_kwargs.seed" not in stats.columns
    per_seed = summarize(collate(res), over=["replicate"])
    assert len(per_seed[per_seed.metric == "accuracy"]) == 6


def test_failed_points_are_left_out_of_the_table(sweep_env):
    res = run_sweep(sweep_test_workflow, base_config(), {FAIL: ["", "boom"]}, user="alice")
    df = collate(res)
    assert set(df.point) == {0} and len(df) == 3


def test_plot_png_and_html(epochs_sweep, tmp_path):
    df = collate(epochs_sweep)
    png, page = tmp_path / "plots" / "acc.png", tmp_path / "acc.html"
    fig = plot_metric(df, x="n_epochs", y="accuracy", hue="limit", out=png, html=page)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 20_000
    from matplotlib.image import imread

    h, w = imread(png).shape[:2]
    assert (w, h) == (1125, 720)
    ax = fig.axes[0]
    assert ax.get_xlabel() == "n_epochs" and ax.get_ylabel() == "accuracy"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["1", "2"]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["1", "2", "3"]
    text = page.read_text()
    assert text.startswith("<!doctype html>") and "<svg" in text and "<script>" in text
    assert "<img" not in text and "http" not in text.split("<svg", 1)[0]  # self-contained
    ref = describe([accuracy_for(2, s) for s in (0, 1, 2)])
    assert text.count('class="pt"><title>') == 6
    assert f"mean accuracy = {ref['mean']:.4g} (n = 3)" in text
    assert 'data-pt="pt-0"' in text


def test_plot_categorical_x_and_dotted_path(sweep_env, tmp_path):
    res = run_sweep(
        sweep_test_workflow,
        base_config(),
        {"submit_training.model": ["base-a", "base-b"]},
        replicates=2,
        user="alice",
    )
    fig = plot_metric(res, x="submit_training.model", y="mean", out=tmp_path / "m.png", error="sem")
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == ["base-a", "base-b"]
    assert (tmp_path / "m.png").exists()


def test_plot_errors_name_what_exists(epochs_sweep, tmp_path):
    df = collate(epochs_sweep)
    with pytest.raises(
        UserError,
        match=r"no metric 'acc' in the results; metrics: \['accuracy', 'mean', 'stderr'\]",
    ):
        plot_metric(df, x="n_epochs", y="acc")
    with pytest.raises(
        UserError,
        match=r"no parameter 'epochs' in the results; parameters: \['n_epochs', 'limit'\]",
    ):
        plot_metric(df, x="epochs", y="accuracy")
    with pytest.raises(
        UserError, match=r"no scorer 'nope' for metric 'accuracy'; scorers: \['match'\]"
    ):
        plot_metric(df, x="n_epochs", y="accuracy", scorer="nope")
    with pytest.raises(UserError, match="error must be one of"):
        plot_metric(df, x="n_epochs", y="accuracy", error="iqr")


def test_missing_pandas_is_a_clear_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(UserError, match=r"pip install 'motools-core\[analysis\]'"):
        require_pandas()


def test_plot_never_pools_other_parameters(epochs_sweep, tmp_path):
    df = collate(epochs_sweep)
    fig = plot_metric(df, x="n_epochs", y="accuracy")  # limit varies too: one line per limit
    assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == ["limit=1", "limit=2"]
    fig = plot_metric(df, x="n_epochs", y="accuracy", where={"limit": 2})
    assert fig.axes[0].get_legend() is None
    with pytest.raises(UserError, match=r"no rows with limit = 7; values: \['1', '2'\]"):
        plot_metric(df, x="n_epochs", y="accuracy", where={"limit": 7})
