"""The store under stress: concurrent writer processes, SIGKILL mid-write, corruption."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from motools.store import ContentStore
from tests.support.plugin_dist import ROOT, cli_env, run_cli


def _writer(root: Path, prefix: str, count: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.support.store_writer", str(root), prefix, str(count)],
        cwd=ROOT,
        env=cli_env(load=""),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _all_atoms_readable(store: ContentStore) -> int:
    """Every listed atom loads and its data file is complete JSONL; return the count."""
    n = 0
    for rec in store.list_atoms():
        atom: Any = store.get_atom(rec["id"])
        assert atom.count() == 3, f"{atom.id} is incomplete"
        atom.validate()
        n += 1
    return n


def test_concurrent_writer_processes(tmp_path: Path) -> None:
    root = tmp_path / "shared"
    ContentStore(root)  # create the schema once, as a shared store would have
    procs = [_writer(root, f"w{i}", 50) for i in range(4)]
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
        assert out.split() == ["writing", "ok", "50"]
        assert "locked" not in err.lower()
    store = ContentStore(root)
    assert _all_atoms_readable(store) == 200
    by_prefix: dict[str, int] = {}
    for rec in store.list_atoms():
        by_prefix[rec["metadata"]["prefix"]] = by_prefix.get(rec["metadata"]["prefix"], 0) + 1
    assert by_prefix == {"w0": 50, "w1": 50, "w2": 50, "w3": 50}
    (edges,) = store.index.query("SELECT COUNT(*) FROM edges")[0]
    assert edges == 4 * 49
    assert store.verify() == []


def test_sigkill_during_writes_leaves_no_partial_atom(tmp_path: Path) -> None:
    root = tmp_path / "crashy"
    ContentStore(root)
    rng = random.Random(1234)
    for round_ in range(6):
        p = _writer(root, f"r{round_}", 0)
        assert p.stdout is not None and p.stdout.readline().strip() == "writing"
        time.sleep(rng.uniform(0.05, 0.4))
        p.send_signal(signal.SIGKILL)
        p.wait(timeout=10)
        assert p.returncode == -signal.SIGKILL
    store = ContentStore(root)
    written = _all_atoms_readable(store)
    assert written > 0, "the writer never got going: make the kill later"
    assert store.verify() == []
    # leftovers of interrupted writes are at worst unreferenced objects or temp dirs
    gc = store.gc()
    assert store.verify() == []
    assert _all_atoms_readable(store) == written
    assert isinstance(gc["removed_objects"], list)
    r = run_cli("store", "verify", env=cli_env(load="", MOTOOLS_HOME=str(root)))
    assert r.code == 0 and "store OK" in r.stdout, r


def test_flipped_byte_is_found_by_verify(tmp_path: Path) -> None:
    root = tmp_path / "corrupt"
    p = _writer(root, "c", 3)
    p.communicate(timeout=60)
    store = ContentStore(root)
    victim: Any = store.get_atom(store.list_atoms()[0]["id"])
    f = victim.jsonl_path
    os.chmod(f, 0o644)
    data = bytearray(f.read_bytes())
    data[5] ^= 0x01
    f.write_bytes(bytes(data))
    problems = store.verify()
    assert len(problems) == 1
    assert "corrupted object" in problems[0] and victim.id in problems[0]

    env = cli_env(load="", MOTOOLS_HOME=str(root))
    r = run_cli("store", "verify", env=env)
    assert r.code == 1, r
    assert "corrupted object" in r.stdout and victim.id in r.stdout
    r = run_cli("store", "verify", "--json", env=env)
    assert r.code == 1 and '"ok": false' in r.stdout
