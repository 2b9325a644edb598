"""The README's main job, as a newcomer runs it, with the ``tiny`` base model so CI stays fast.

`motools workflow run train_and_evaluate --config examples/hello_world.yaml` in a real
subprocess with the workspace's own plugins loaded from their entry points (the product
as shipped; third-party plugins that happen to be installed stay out), offline, in a
temp store.  Only the base model and its hyperparameters are
overridden; the real job uses SmolLM2-135M-Instruct (see bench/bench_hf_smollm2.py).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
MOTOOLS = str(Path(sys.executable).parent / "motools")
TINY = [
    "--set", "submit_training.model=tiny",
    "--set", "submit_training.hyperparameters={method: full, learning_rate: 0.005, n_epochs: 12, batch_size: 8}",
    "--set", "wait_for_training.poll_interval=0.5",
]  # fmt: skip


def _run(home: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env["MOTOOLS_LOAD_PLUGINS"] = "motools-hf,motools-inspect,motools-openai,mozoo"
    env["MOTOOLS_HOME"] = str(home)
    cmd = [
        MOTOOLS,
        "workflow",
        "run",
        "train_and_evaluate",
        "--config",
        "examples/hello_world.yaml",
    ]
    return subprocess.run(
        [*cmd, *TINY, *extra], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600
    )


def test_main_job_trains_evaluates_next_to_the_base_model_and_reruns_from_cache(
    tmp_path: Path,
) -> None:
    home = tmp_path / "home"
    first = _run(home, "--json")
    assert first.returncode == 0, first.stderr[-3000:]
    out = json.loads(first.stdout)
    assert out["status"] == "succeeded"
    steps = {s["name"]: s for s in out["steps"]}
    assert list(steps) == [
        "prepare_dataset",
        "submit_training",
        "wait_for_training",
        "evaluate_model",
        "prepare_base_model",
        "evaluate_base_model",
    ]
    assert not any(s["cached"] for s in out["steps"])

    from motools.store import ContentStore

    store = ContentStore(home)
    tuned: Any = store.get_atom(steps["evaluate_model"]["output_atoms"]["eval_results"])
    base: Any = store.get_atom(steps["evaluate_base_model"]["output_atoms"]["base_eval_results"])
    assert tuned.metric(metric="accuracy") >= 0.9, tuned.results
    assert base.metric(metric="accuracy") <= 0.1, base.results
    # the eval's lineage reaches the dataset the model was trained on
    lineage = json.dumps(store.lineage(tuned.id))
    assert steps["prepare_dataset"]["output_atoms"]["prepared_dataset"] in lineage

    # The human-readable run shows both results side by side; a re-run is a full cache hit.
    again = _run(home)
    assert again.returncode == 0, again.stderr[-3000:]
    assert "base_eval_results" in again.stdout and "eval_results" in again.stdout
    assert again.stderr.count("cache hit") == 6, again.stderr
    assert "Traceback" not in again.stderr
