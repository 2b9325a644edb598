"""``motools sweep``: run / plan / ls / status / results / plot, in-process and as a real CLI."""

from __future__ import annotations

import csv
import json

import pytest
from typer.testing import CliRunner

from motools.cli.sweep_cmd import sweep_app
from motools.errors import ConfigError, UserError
from tests.support import test_backend
from tests.support.plugin_dist import cli_env, make_dist, run_cli

SWEEP = """
workflow: sweep_test
config:
  prepare_dataset:
    loader_kwargs: {{sample_size: 3, seed: 0}}
  submit_training:
    model: base
    backend_name: test
    hyperparameters: {{n_epochs: 1}}
  wait_for_training: {{poll_interval: 0.01}}
  evaluate_model:
    eval_task: sweep_task
    backend_name: sweep_eval
    eval_kwargs: {{limit: 1}}
sweep:
  grid:
    submit_training.hyperparameters.n_epochs: {epochs}
    submit_training.hyperparameters.fail: {fail}
    {extra}
  replicates: 2
"""


def write(tmp_path, epochs="[1, 2]", fail='[""]', name="epochs.yaml", extra=""):
    path = tmp_path / name
    path.write_text(SWEEP.format(epochs=epochs, fail=fail, extra=extra))
    return path


def invoke(*args: str):
    return CliRunner().invoke(sweep_app, list(args), catch_exceptions=True)


def test_run_json_then_ls_status_results_plot(sweep_env, tmp_path):
    path = write(tmp_path)
    r = invoke("run", str(path), "--json", "--user", "alice", "-j", "3")
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    sid = out["sweep_id"]
    assert [
        (p["params"]["submit_training.hyperparameters.n_epochs"], p["status"])
        for p in out["points"]
    ] == [
        (1, "succeeded"),
        (1, "succeeded"),
        (2, "succeeded"),
        (2, "succeeded"),
    ]
    assert all(p["run_id"] for p in out["points"])
    assert len(test_backend.SUBMITTED) == 4
    assert f"sweep {sid}: 4 point(s)" in r.stderr  # progress goes to stderr

    r = invoke("ls", "--json")
    assert [(s["sweep_id"], s["name"], s["status"], s["points"]) for s in json.loads(r.stdout)] == [
        (sid, "epochs", "succeeded", 4)
    ]
    r = invoke("ls")
    assert sid in r.stdout and "4 succeeded" in r.stdout

    r = invoke("status", sid[:5], "--json")
    st = json.loads(r.stdout)
    assert st["sweep_id"] == sid and st["status"] == "succeeded" and st["source"] == str(path)
    assert [p["run_id"] for p in st["points"]] == [p["run_id"] for p in out["points"]]
    r = invoke("status", sid)
    assert r.exit_code == 0 and "n_epochs=2, fail=''" in r.stdout and "succeeded" in r.stdout

    r = invoke("results", sid, "--json")
    res = json.loads(r.stdout)
    assert len(res["rows"]) == 4 * 3
    acc = [s for s in res["summary"] if s["metric"] == "accuracy"]
    assert [(s["n_epochs"], s["n"]) for s in acc] == [(1, 2), (2, 2)]
    r = invoke("results", sid)
    assert "ci_high" in r.stdout and "accuracy" in r.stdout
    rows_csv, sum_csv = tmp_path / "rows.csv", tmp_path / "summary.csv"
    assert invoke("results", sid, "--csv", str(rows_csv)).exit_code == 0
    assert invoke("results", sid, "--csv", str(sum_csv), "--summary").exit_code == 0
    rows = list(csv.DictReader(rows_csv.open()))
    assert len(rows) == 12 and {"point", "replicate", "n_epochs", "fail", "metric", "value"} <= set(
        rows[0]
    )
    # 2 points x 2 metrics (the evaluator's stderr is not averaged across replicates)
    assert len(list(csv.DictReader(sum_csv.open()))) == 2 * 2

    png, page = tmp_path / "acc.png", tmp_path / "acc.html"
    r = invoke(
        "plot",
        sid,
        "--x",
        "n_epochs",
        "--metric",
        "accuracy",
        "-o",
        str(png),
        "--html",
        str(page),
        "--where",
        "fail=",
    )
    assert r.exit_code == 0, r.output
    assert png.read_bytes()[:4] == b"\x89PNG" and "<svg" in page.read_text()

    # Re-running resumes: every point is a cache hit.
    r = invoke("run", str(path), "--json", "--user", "alice", "-q")
    again = json.loads(r.stdout)
    assert again["sweep_id"] == sid and all(p["cached"] for p in again["points"])
    assert len(test_backend.SUBMITTED) == 4 and r.stderr == ""


def test_plan_json_and_table(sweep_env, tmp_path):
    path = write(tmp_path)
    r = invoke("plan", str(path), "--json", "--user", "alice")
    assert r.exit_code == 0, r.output
    plan = json.loads(r.stdout)
    assert [p["status"] for p in plan["points"]] == ["will run"] * 4
    assert plan["totals"]["points"] == 4 and plan["totals"]["will_run"] == 4
    r = invoke("plan", str(path), "--user", "alice")
    assert "will run" in r.stdout and "All points are valid" in r.stderr
    assert test_backend.SUBMITTED == []


def test_failed_points_exit_1_with_json(sweep_env, tmp_path):
    path = write(tmp_path, epochs="[1]", fail='["", "boom"]')
    r = invoke("run", str(path), "--json", "--user", "alice", "-q")
    assert r.exit_code == 1
    statuses = [p["status"] for p in json.loads(r.stdout)["points"]]
    assert statuses == ["succeeded", "succeeded", "failed", "failed"]


def test_bad_inputs_are_user_errors(sweep_env, tmp_path):
    r = invoke("run", str(tmp_path / "missing.yaml"))
    assert isinstance(r.exception, ConfigError) and "does not exist" in str(r.exception)
    bad = write(
        tmp_path, epochs="[1, 2]", name="bad.yaml", extra="evaluate_model.eval_kwargs.limit: [1, 0]"
    )
    r = invoke("plan", str(bad))
    assert isinstance(r.exception, ConfigError)
    msg = str(r.exception)
    assert (
        "bad.yaml" in msg
        and "point 2 (n_epochs=1, fail='', limit=0, replicate=0) and points 3, 6, 7" in msg
    )
    r = invoke("status", "sw-nope")
    assert isinstance(r.exception, UserError) and "no sweep 'sw-nope'" in str(r.exception)


@pytest.mark.timeout(120)
def test_real_cli_in_a_subprocess(tmp_path):
    """The installed ``motools`` script, plugins found through entry points (plain progress lines)."""
    site = make_dist(
        tmp_path / "site",
        "sweep-test-plugin",
        {
            "sweep_test": "tests.sweep.sweep_support",
            "sweep_test_backend": "tests.support.test_backend",
        },
    )
    env = cli_env(site, load="sweep-test-plugin")
    path = write(tmp_path, fail='["", "boom"]')
    r = run_cli("sweep", "run", str(path), "--json", "--user", "alice", env=env)
    assert r.code == 1, r
    out = json.loads(r.stdout)
    assert [p["status"] for p in out["points"]].count("succeeded") == 4
    assert "[8/8] point" in r.stderr and f"sweep {out['sweep_id']} failed" in r.stderr
    assert "\x1b[" not in r.stderr  # not a terminal: plain lines
    r = run_cli("sweep", "status", out["sweep_id"], "--json", env=env)
    assert r.code == 0, r
    assert json.loads(r.stdout)["counts"]["succeeded"] == 4
    r = run_cli("sweep", "plan", str(tmp_path / "nope.yaml"), env=env)
    assert r.code == 2 and "does not exist" in r.stderr and "Traceback" not in r.stderr


@pytest.mark.timeout(120)
def test_interrupted_sweep_resumes_without_resubmitting(tmp_path):
    """SIGINT while a training job runs: the sweep is marked interrupted; re-running re-attaches."""
    import os
    import signal
    import subprocess
    import time

    from motools.store import get_store
    from tests.support.plugin_dist import motools_cmd

    site = make_dist(
        tmp_path / "site",
        "sweep-test-plugin",
        {
            "sweep_test": "tests.sweep.sweep_support",
            "sweep_test_backend": "tests.support.test_backend",
        },
    )
    env = cli_env(site, load="sweep-test-plugin")
    path = tmp_path / "slow.yaml"
    path.write_text(
        SWEEP.format(epochs="[1]", fail='[""]', extra="")
        .replace("replicates: 2", "replicates: 1")
        .replace("{n_epochs: 1}", "{n_epochs: 1, steps: 60}")
        .replace("{poll_interval: 0.01}", "{poll_interval: 0.05, max_poll_interval: 0.05}")
    )
    proc = subprocess.Popen(
        motools_cmd("sweep", "run", str(path), "--json", "--user", "alice"),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    store = get_store(os.environ["MOTOOLS_HOME"])
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        rows = store.index.query(
            "SELECT key FROM kv WHERE namespace='test_backend_jobs' AND key LIKE 'testjob-%'"
        )
        if rows:
            break
        time.sleep(0.1)
    assert rows, "the training job was never submitted"
    time.sleep(0.5)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    r = run_cli("sweep", "ls", "--json", env=env)
    (sweep,) = json.loads(r.stdout)
    assert sweep["status"] == "interrupted"
    r = run_cli("sweep", "run", str(path), "--json", "--user", "alice", "-q", env=env)
    assert r.code == 0, r
    assert json.loads(r.stdout)["points"][0]["status"] == "succeeded"
    jobs = store.index.query(
        "SELECT key FROM kv WHERE namespace='test_backend_jobs' AND key LIKE 'testjob-%'"
    )
    assert len(jobs) == 1  # re-attached to the interrupted job, not submitted again
