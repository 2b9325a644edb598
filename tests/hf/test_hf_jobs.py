"""Job control of the hf backend with real training processes: resume after SIGKILL,
cancel (before and during training), idempotent concurrent submits.
"""

from __future__ import annotations

import os
import signal
import threading
from pathlib import Path
from typing import Any

from tests.hf.hf_support import hello_dataset, wait_until

# LoRA on `tiny`, many short steps: long enough to kill in the middle, checkpoints often.
LONG_HP = {"method": "lora", "lora_rank": 4, "learning_rate": 0.01, "n_epochs": 40, "batch_size": 4}
OPTS = {"checkpoint_every_steps": 5, "threads": 1}


def _read_status(jobdir: Path) -> dict[str, Any]:
    from motools_hf.jobs import read_status

    return read_status(jobdir)


def _wait_done(hf: Any, handle: dict[str, Any], store: Any, timeout: float = 120) -> Any:
    return wait_until(
        lambda: (st := hf.status(handle, store)).done and st,
        timeout,
        "the job to finish",
        interval=0.1,
    )


def test_sigkilled_job_resumes_from_checkpoint_and_matches_uninterrupted_run(
    hf: Any, store: Any, tmp_path: Path
) -> None:
    ds = hello_dataset(store, tmp_path, n=24)
    hp = hf.validate_hyperparameters(LONG_HP)
    results: list[dict[str, Any]] = []
    threads = [
        threading.Thread(
            target=lambda: results.append(
                hf.submit(ds, "tiny", hp, None, "key-resume", OPTS, store)
            )
        )
        for _ in range(3)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({r["job_id"] for r in results}) == 1, (
        "concurrent submits with one key must share one job"
    )
    handle = results[0]
    jobdir = store.root / "hf-jobs" / handle["job_id"]

    st = wait_until(
        lambda: (s := _read_status(jobdir)).get("step", 0) >= 12 and s,
        120,
        "training to pass step 12",
    )
    total = st["total_steps"]
    os.kill(st["pid"], signal.SIGKILL)
    wait_until(lambda: hf.status(handle, store).status == "failed", 10, "the kill to be noticed")
    dead = hf.status(handle, store)
    assert (
        dead.error_code == "process_died"
        and "resumes from its last checkpoint" in dead.error_message
    )
    killed_at = _read_status(jobdir)["step"]
    assert killed_at < total, "the job finished before it could be killed"

    from motools_hf.checkpoint import checkpoint_state

    ckpt_step = checkpoint_state(jobdir)["step"]
    assert 10 <= ckpt_step <= killed_at
    assert hf.submit(ds, "tiny", hp, None, "key-resume", OPTS, store) == handle
    final = _wait_done(hf, handle, store)
    assert final.status == "succeeded", final.error_message
    assert f"resumed from checkpoint at step {ckpt_step}/{total}" in final.events
    log = (jobdir / "train.log").read_text()
    after_restart = log.rsplit("motools-hf: model", 1)[-1]  # the second process's lines
    first_step = int(after_restart.split("step ", 1)[1].split("/", 1)[0])
    assert first_step == ckpt_step + 1, "the resumed process must not start again from step 1"

    # The resumed weights equal those of an uninterrupted run (same seed, same thread count).
    _assert_same_weights(jobdir / "output", _train_uninterrupted(tmp_path, store, ds, hp))


def _train_uninterrupted(tmp_path: Path, store: Any, ds: Any, hp: dict[str, Any]) -> Path:
    import torch

    from motools_hf.base_models import resolve_model_dir
    from motools_hf.training import train

    ref = tmp_path / "reference"
    ref.mkdir()
    before = torch.get_num_threads()
    torch.set_num_threads(OPTS["threads"])
    try:
        summary = train(
            ref,
            resolve_model_dir("tiny", store.root),
            ds.rows(),
            hp,
            OPTS,
            lambda p: None,
            lambda: False,
        )
    finally:
        torch.set_num_threads(before)
    assert summary is not None
    return ref / "output"


def _assert_same_weights(a: Path, b: Path) -> None:
    import torch
    from safetensors.torch import load_file

    wa, wb = load_file(str(a / "model.safetensors")), load_file(str(b / "model.safetensors"))
    assert wa.keys() == wb.keys()
    for k in wa:
        assert torch.allclose(wa[k], wb[k], atol=1e-5), k


def test_cancel_before_and_during_training_then_resubmit_restarts(
    hf: Any, store: Any, tmp_path: Path
) -> None:
    ds = hello_dataset(store, tmp_path, n=16)
    hp = hf.validate_hyperparameters({**LONG_HP, "n_epochs": 500})
    handle = hf.submit(ds, "tiny", hp, None, "key-cancel", OPTS, store)
    jobdir = store.root / "hf-jobs" / handle["job_id"]

    # Cancel while the process is still importing torch: it stops at once.
    hf.cancel(handle, store)
    st = hf.status(handle, store)
    assert st.status == "cancelled" and st.done

    # Re-submitting a cancelled job starts it again; cancel it once it is training.
    assert hf.submit(ds, "tiny", hp, None, "key-cancel", OPTS, store) == handle
    wait_until(lambda: _read_status(jobdir).get("step", 0) >= 3, 120, "training to start")
    hf.cancel(handle, store)
    st = hf.status(handle, store)
    assert st.status == "cancelled"
    assert "cancelled" in st.events
    status = _read_status(jobdir)
    assert status["step"] < status["total_steps"]
    from motools.errors import TrainingFailed
    from motools_hf.jobs import is_running

    assert not is_running(jobdir)
    assert (jobdir / "checkpoint" / "state.json").is_file(), "a cancelled job keeps its checkpoint"
    try:
        hf.result(handle, store)
    except TrainingFailed as e:
        assert "cancelled" in str(e)
    else:
        raise AssertionError("result() of a cancelled job must fail")


_HOLD_LOCK = """
import fcntl, sys, time
fd = open(sys.argv[1], "a+")
fcntl.flock(fd, fcntl.LOCK_EX)
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
"""


def test_cancel_and_resubmit_while_a_process_is_starting_up(
    hf: Any, store: Any, tmp_path: Path
) -> None:
    """The run lock is taken before the pid is recorded: a cancel in that window waits
    for the pid, and a re-submit waits for the cancelled process to leave, then restarts."""
    import subprocess
    import sys

    from motools_hf.jobs import is_running, update_status

    ds = hello_dataset(store, tmp_path, n=16)
    hp = hf.validate_hyperparameters({**LONG_HP, "n_epochs": 500})
    handle = hf.submit(ds, "tiny", hp, None, "key-window", OPTS, store)
    jobdir = store.root / "hf-jobs" / handle["job_id"]
    hf.cancel(handle, store)
    assert not is_running(jobdir)

    # A stand-in for a process in the window: it holds the lock, has written no pid, and
    # a cancel was requested; it exits after 1.5 s as a cancelled process would.
    update_status(jobdir, pid=None)
    (jobdir / "cancel_requested").touch()
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLD_LOCK, str(jobdir / "run.lock"), "1.5"],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
    assert is_running(jobdir)
    # the re-submit must not adopt the leaving process: it waits, then really restarts
    assert hf.submit(ds, "tiny", hp, None, "key-window", OPTS, store) == handle
    holder.wait(timeout=10)
    wait_until(lambda: _read_status(jobdir).get("step", 0) >= 3, 120, "the restarted job to train")
    hf.cancel(handle, store)
    assert hf.status(handle, store).status == "cancelled" and not is_running(jobdir)
