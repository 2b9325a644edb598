"""``motools workflow`` and ``motools cache`` as real subprocesses with the core test plugin."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

from motools.workflow import run_workflow
from motools.workflow.cache import StepCache
from motools.workflow.runs import list_runs, load_run
from tests.support.core_workflows import executions, pipeline
from tests.support.plugin_dist import ROOT, cli_env, motools_cmd


def _config(tmp_path: Path, text: str = "make:\n  rows: 2\n") -> str:
    p = tmp_path / "run.yaml"
    p.write_text(text)
    return str(p)


def _wait_for(predicate: Any, timeout: float = 20.0) -> None:
    end = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < end, "timed out waiting"
        time.sleep(0.05)


def test_run_json_output_and_cached_rerun(cli: Any, mt: Any, tmp_path: Path, log: Path) -> None:
    cfg = _config(tmp_path)
    r = cli("workflow", "run", "core_pipeline", "--config", cfg, "--user", "alice", "--json")
    assert r.code == 0, r
    out = json.loads(r.stdout)
    assert set(out) == {"run_id", "status", "steps"} and out["status"] == "succeeded"
    assert [(s["name"], s["status"], s["cached"]) for s in out["steps"]] == [
        ("make", "succeeded", False),
        ("transform", "succeeded", False),
    ]
    assert set(out["steps"][0]) == {"name", "status", "cached", "output_atoms"}
    assert out["steps"][1]["output_atoms"]["result"].startswith("dataset-alice-")
    assert "make: running" in r.stderr, "progress goes to stderr"

    r = mt(
        "workflow",
        "run",
        "core_pipeline",
        "--config",
        cfg,
        "--set",
        "transform.suffix=?",
        "--user",
        "bob",
    )
    assert r.code == 0, r
    assert "cached" in r.stdout and "succeeded" in r.stdout
    assert executions(log) == ["make", "transform", "transform"]

    r = mt("workflow", "run", "core_pipeline", "--config", cfg, "--set", "make.rows=3", "--dry-run")
    assert r.code == 0, r
    assert "config changed: rows (2 -> 3)" in r.stdout and "will run" in r.stdout
    r = mt("workflow", "plan", "core_pipeline", "--config", cfg, "--json")
    plan = json.loads(r.stdout)
    assert [s["status"] for s in plan["steps"]] == ["cached", "cached"]
    assert executions(log) == ["make", "transform", "transform"], "planning runs nothing"

    r = mt("workflow", "runs", "--json")
    runs = json.loads(r.stdout)
    assert [x["user"] for x in runs] == ["bob", "alice"] and {x["status"] for x in runs} == {
        "succeeded"
    }
    r = mt("workflow", "status", out["run_id"], "--json")
    status = json.loads(r.stdout)
    assert status["run_id"] == out["run_id"] and status["status"] == "succeeded"
    assert [s["name"] for s in status["step_states"]] == ["make", "transform"]
    assert status["config"]["make"]["rows"] == 2


def test_config_errors_exit_2_without_traceback(cli: Any, tmp_path: Path, log: Path) -> None:
    cfg = _config(tmp_path, "make:\n  rwos: 2\n")
    r = cli("workflow", "run", "core_pipeline", "--config", cfg)
    assert r.code == 2, r
    assert f"{cfg}: make.rwos: unknown key 'rwos' (did you mean 'rows'?)" in r.stderr
    assert "Traceback" not in r.stderr and r.stdout == ""
    r = cli("workflow", "run", "core_pipelin", "--config", cfg)
    assert (
        r.code == 2 and "did you mean 'core_pipeline'" in r.stderr and "Traceback" not in r.stderr
    ), r
    r = cli(
        "workflow",
        "run",
        "core_training",
        "--set",
        "submit_training.model=m",
        "--set",
        "submit_training.backend_name=nope",
    )
    assert r.code == 2 and "unknown training backend 'nope'" in r.stderr, r
    assert executions(log) == []


def test_failure_exits_1_with_summary_and_resume_fixes_it(
    cli: Any, mt: Any, tmp_path: Path, log: Path
) -> None:
    cfg = _config(tmp_path)
    r = cli("workflow", "run", "core_pipeline", "--config", cfg, CORE_TEST_FAIL="transform")
    assert r.code == 1, r
    assert "Traceback" not in r.stderr
    failed_lines = [line for line in r.stderr.splitlines() if line.startswith("FAILED:")]
    assert failed_lines == [
        "FAILED: step 'transform': RuntimeError: transform was told to fail by CORE_TEST_FAIL"
    ]
    resume = [line for line in r.stderr.splitlines() if line.startswith("Resume with:")]
    assert len(resume) == 1
    run_id = resume[0].split()[-1]
    assert resume[0] == f"Resume with: motools workflow resume {run_id}"

    status = json.loads(mt("workflow", "status", run_id, "--json").stdout)
    assert status["status"] == "failed"
    assert [(s["name"], s["status"]) for s in status["step_states"]] == [
        ("make", "succeeded"),
        ("transform", "failed"),
    ]
    assert "told to fail" in status["step_states"][1]["error"]

    r = cli("workflow", "resume", run_id, "--json")  # the cause is gone: CORE_TEST_FAIL unset
    assert r.code == 0, r
    out = json.loads(r.stdout)
    assert out["run_id"] == run_id and out["status"] == "succeeded"
    assert [s["status"] for s in out["steps"]] == ["cached", "succeeded"]
    assert executions(log) == ["make", "transform", "transform"]
    assert json.loads(mt("workflow", "status", run_id, "--json").stdout)["status"] == "succeeded"


def test_resume_refuses_a_config_file_that_changed_since_the_run(
    cli: Any, tmp_path: Path, log: Path
) -> None:
    cfg = _config(tmp_path)
    r = cli("workflow", "run", "core_pipeline", "--config", cfg, CORE_TEST_FAIL="transform")
    assert r.code == 1, r
    run_id = r.stderr.strip().splitlines()[-1].split()[-1]
    Path(cfg).write_text(Path(cfg).read_text() + "transform:\n  suffix: changed\n")
    r = cli("workflow", "resume", run_id)
    assert r.code == 2 and "changed since run" in r.stderr and "suffix" in r.stderr, r
    assert executions(log) == ["make", "transform"], "nothing ran"
    r = cli("workflow", "resume", run_id, "--use-current-config", "--json")
    assert r.code == 0, r


def _start(core_site: Path, *args: str, **env: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        motools_cmd(*args),
        cwd=ROOT,
        env=cli_env(core_site, **env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_ctrl_c_leaves_a_consistent_interrupted_run(
    cli: Any, core_site: Path, tmp_path: Path, log: Path, home_store: Any
) -> None:
    # left is a sync step that finishes; right is an async step asleep when Ctrl-C comes
    cfg = _config(tmp_path, "left:\n  sleep: 0\nright:\n  sleep: 30\n")
    p = _start(core_site, "workflow", "run", "core_fanout", "--config", cfg)
    _wait_for(lambda: executions(log, "right") and executions(log, "left"))
    time.sleep(0.3)
    p.send_signal(signal.SIGINT)
    _out, err = p.communicate(timeout=20)
    assert p.returncode == 130, err
    assert "Interrupted." in err and "Traceback" not in err

    [run] = list_runs(home_store)
    r = cli("workflow", "status", run["run_id"])
    assert (
        r.code == 0 and f"core_fanout run {run['run_id']}" in r.stdout and "interrupted" in r.stdout
    ), r
    state = load_run(home_store, run["run_id"])
    assert state.status == "interrupted" and state.finished_at
    left, right, join = state.step_states
    assert left.status == "succeeded" and home_store.has_atom(left.output_atoms["left_out"])
    assert right.status == "failed" and right.error == "interrupted"
    assert join.status == "skipped"
    assert home_store.verify() == []
    assert [e.step for e in StepCache(home_store).entries()] == ["left"]
    assert home_store.index.query("SELECT COUNT(*) FROM leases")[0][0] == 0, "leases released"


def test_ctrl_c_during_a_sync_step(
    core_site: Path, tmp_path: Path, log: Path, home_store: Any
) -> None:
    cfg = _config(tmp_path, "make:\n  sleep: 1.5\n")
    p = _start(core_site, "workflow", "run", "core_pipeline", "--config", cfg)
    _wait_for(lambda: executions(log, "make"))
    p.send_signal(signal.SIGINT)
    _out, err = p.communicate(timeout=30)
    assert p.returncode == 130, err
    [run] = list_runs(home_store)
    state = load_run(home_store, run["run_id"])
    assert state.status == "interrupted"
    assert [s.status for s in state.step_states] == ["failed", "skipped"]
    assert StepCache(home_store).entries() == [] and home_store.list_atoms() == []


def test_a_killed_run_is_shown_as_interrupted(
    cli: Any, core_site: Path, tmp_path: Path, log: Path, home_store: Any
) -> None:
    # SIGKILL gives the process no chance to record anything: the run is recorded as
    # running, and motools sees that its process on this host is gone.
    cfg = _config(tmp_path, "left:\n  sleep: 0\nright:\n  sleep: 30\n")
    p = _start(core_site, "workflow", "run", "core_fanout", "--config", cfg)
    _wait_for(lambda: executions(log, "right") and executions(log, "left"))
    p.kill()
    p.communicate(timeout=20)
    [run] = list_runs(home_store)
    assert run["status"] == "interrupted"
    state = load_run(home_store, run["run_id"])
    assert state.status == "interrupted" and "is gone" in (state.error or "")
    assert "interrupted" in cli("workflow", "runs").stdout


def test_two_processes_compute_a_step_once(
    cli: Any, core_site: Path, tmp_path: Path, log: Path
) -> None:
    cfg = _config(tmp_path, "make:\n  sleep: 1.0\n")
    procs = [
        _start(
            core_site, "workflow", "run", "core_pipeline", "--config", cfg, "--json", "--user", u
        )
        for u in ("alice", "bob")
    ]
    outs = []
    for p in procs:
        out, err = p.communicate(timeout=60)
        assert p.returncode == 0, err
        outs.append(json.loads(out))
    assert executions(log, "make") == ["make"], "the second process waited and reused the result"
    assert executions(log, "transform") == ["transform"]
    assert outs[0]["steps"][1]["output_atoms"] == outs[1]["steps"][1]["output_atoms"]
    assert sorted(s["status"] for o in outs for s in o["steps"] if s["name"] == "make") == [
        "cached",
        "succeeded",
    ]


def test_cache_ls_and_rm(mt: Any, home_store: Any) -> None:
    run_workflow(pipeline, {}, {"make": {}}, user="alice")
    run_workflow(pipeline, {}, {"make": {}, "transform": {"suffix": "?"}}, user="alice")
    cache = StepCache(home_store)
    entries = json.loads(mt("cache", "ls", "--json").stdout)
    assert sorted(e["step"] for e in entries) == ["make", "transform", "transform"]
    make_entry = next(e for e in entries if e["step"] == "make")
    assert make_entry["hits"] == 1 and set(make_entry["outputs"]) == {"data"}
    assert {"key", "step", "outputs", "created_at", "hits"} <= set(make_entry)
    assert len(json.loads(mt("cache", "ls", "--step", "transform", "--json").stdout)) == 2
    r = mt("cache", "ls")
    assert r.code == 0 and make_entry["key"][:16] in r.stdout

    r = mt("cache", "rm", "--step", "transform", input="n\n")
    assert r.code == 1 and "Remove 2 cache entries?" in r.stderr, r
    assert len(cache.entries()) == 3
    r = mt("cache", "rm", "--step", "transform", input="y\n")
    assert r.code == 0 and "removed 2 cache entries" in r.stderr, r
    r = mt("cache", "rm", make_entry["key"][:10], "--yes")
    assert r.code == 0 and "removed 1 cache entry" in r.stderr, r
    assert cache.entries() == []
    r = mt("cache", "rm", "deadbeef00", "--yes")
    assert r.code == 2 and "no cache entry with key 'deadbeef00'" in r.stderr, r
    r = mt("cache", "rm", "--all", "--step", "make")
    assert r.code == 2 and "exactly one" in r.stderr

    # atoms are kept; the next run recomputes
    assert home_store.verify() == [] and len(home_store.list_atoms()) == 3
    state = run_workflow(pipeline, {}, {"make": {}}, user="alice")
    assert [s.status for s in state.step_states] == ["succeeded", "succeeded"]
    r = mt("cache", "rm", "--all", "--yes")
    assert r.code == 0 and "removed 2 cache entries" in r.stderr, r


def test_dry_run_shows_the_training_cost_estimate(mt: Any, tmp_path: Path) -> None:
    from tests.support.core_workflows import training

    base = {
        "submit_training": {
            "model": "base",
            "backend_name": "test",
            "hyperparameters": {"n_epochs": 2},
        }
    }
    run_workflow(training, {}, base, user="alice")
    cfg = _config(
        tmp_path,
        "submit_training:\n  model: base\n  backend_name: test\n  hyperparameters: {n_epochs: 2}\n",
    )
    r = mt(
        "workflow",
        "run",
        "core_training",
        "--config",
        cfg,
        "--set",
        "submit_training.hyperparameters.n_epochs=3",
        "--dry-run",
    )
    assert r.code == 0, r
    row = next(line for line in r.stdout.splitlines() if "submit_training" in line)
    assert (
        "config changed: hyperparameters.n_epochs (2 -> 3) [estimated cost $0.01, ~60 trained tokens]"
        in row
    )
