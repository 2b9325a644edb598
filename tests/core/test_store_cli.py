"""``motools atom`` and ``motools store`` as real subprocesses."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from tests.support.cli_inprocess import invoke
from tests.support.core_workflows import write_chat_jsonl
from tests.support.plugin_dist import cli_env, run_cli


def _populate(store: Any, tmp_path: Path) -> dict[str, Any]:
    raw = store.create_atom(
        "dataset", "alice", write_chat_jsonl(tmp_path / "raw.jsonl", ["a", "b"])
    )
    prep = store.create_atom(
        "dataset",
        "bob",
        write_chat_jsonl(tmp_path / "prep.jsonl", ["A"]),
        parents={"raw": raw.id},
        provenance={"workflow": "wf", "step": "prepare", "run_id": "r1"},
    )
    model = store.create_atom(
        "model",
        "bob",
        metadata={"provider": "test", "model_id": "m1", "base_model": "b"},
        parents={"dataset": prep.id},
    )
    return {"raw": raw, "prep": prep, "model": model}


def test_atom_ls_show_and_lineage(home_store: Any, tmp_path: Path) -> None:
    atoms = _populate(home_store, tmp_path)

    r = invoke("atom", "ls", "--json")
    assert r.code == 0, r
    listed = json.loads(r.stdout)
    assert [a["id"] for a in listed] == [
        atoms["model"].id,
        atoms["prep"].id,
        atoms["raw"].id,
    ]  # newest first
    assert set(listed[0]) == {"id", "type", "user", "created_at", "size_bytes", "metadata"}
    r = invoke("atom", "ls", "--type", "dataset", "--user", "bob", "--json")
    assert [a["id"] for a in json.loads(r.stdout)] == [atoms["prep"].id]
    r = invoke("atom", "ls")
    assert r.code == 0 and atoms["raw"].id in r.stdout and "prepare" in r.stdout, r

    r = invoke("atom", "show", atoms["prep"].id, "--json")
    shown = json.loads(r.stdout)
    assert shown["provenance"]["made_from"] == {"raw": atoms["raw"].id}
    assert shown["files"] == ["prep.jsonl"] and shown["data_path"] == str(
        atoms["prep"].get_data_path()
    )
    r = invoke("atom", "show", atoms["prep"].id)
    assert r.code == 0 and "made_from" in r.stdout and atoms["raw"].id in r.stdout

    r = invoke("atom", "lineage", atoms["model"].id, "--json")
    tree = json.loads(r.stdout)
    assert tree["parents"][0]["id"] == atoms["prep"].id
    assert tree["parents"][0]["parents"][0]["id"] == atoms["raw"].id
    r = invoke("atom", "lineage", atoms["raw"].id, "--down", "--json")
    assert json.loads(r.stdout)["children"][0]["children"][0]["id"] == atoms["model"].id
    r = invoke("atom", "lineage", atoms["model"].id)
    assert (
        r.code == 0 and "dataset:" in r.stdout and "raw:" in r.stdout and "(wf/prepare)" in r.stdout
    ), r


def test_bad_ids_exit_2_with_a_clear_message(home_store: Any) -> None:
    env = cli_env(load="")
    r = run_cli("atom", "show", "not-an-id", env=env)
    assert (
        r.code == 2 and "malformed atom id 'not-an-id'" in r.stderr and "Traceback" not in r.stderr
    ), r
    r = run_cli("atom", "lineage", "dataset-alice-0123456789abcdef", env=env)
    assert r.code == 2 and "no atom 'dataset-alice-0123456789abcdef'" in r.stderr, r


def test_atom_of_an_uninstalled_type_is_a_clear_error(home_store: Any, plugins: Any) -> None:
    plugins("motools_example_plugin")
    (Path(home_store.root) / "counts.json").write_text("{}")
    atom = home_store.create_atom("wordcount", "alice", Path(home_store.root) / "counts.json")
    r = run_cli("atom", "show", atom.id, env=cli_env(load=""))
    assert r.code == 2, r
    assert "unknown atom type 'wordcount'" in r.stderr and "installed plugins" in r.stderr
    r = run_cli("atom", "show", atom.id, "--json", env=cli_env(load="motools-example-plugin"))
    assert r.code == 0 and json.loads(r.stdout)["type"] == "wordcount", r


def test_store_stats_verify_gc(home_store: Any, tmp_path: Path) -> None:
    atoms = _populate(home_store, tmp_path)
    r = invoke("store", "stats", "--json")
    s = json.loads(r.stdout)
    assert s["atoms"]["dataset"]["count"] == 2 and s["atoms"]["model"] == {"count": 1, "bytes": 0}
    assert s["atoms"]["dataset"]["bytes"] == atoms["raw"].size_bytes + atoms["prep"].size_bytes
    r = invoke("store", "stats")
    assert r.code == 0 and "3 atoms" in r.stdout, r

    r = invoke("store", "verify")
    assert r.code == 0 and "store OK" in r.stdout, r

    orphan = home_store.objects_dir / "cd" / ("cd" + "1" * 62)
    orphan.mkdir(parents=True)
    (orphan / "f").write_bytes(b"x" * 2048)
    r = invoke("store", "gc", "--dry-run")
    assert (
        "would remove 0 unreferenced object(s)" in r.stdout
        and "kept 1 unreferenced object(s) younger" in r.stdout
    ), r
    os.utime(orphan, (time.time() - 7200, time.time() - 7200))
    r = invoke("store", "gc", "--dry-run")
    assert r.code == 0 and "would remove 1 unreferenced object(s), 2.0 KB" in r.stdout, r
    assert orphan.exists()
    r = invoke("store", "gc", "--json")
    assert json.loads(r.stdout)["removed_objects"] == [orphan.name] and not orphan.exists()
    assert atoms["raw"].get_data_path().exists()


def test_dangling_reference_fails_verify(home_store: Any, tmp_path: Path) -> None:
    atoms = _populate(home_store, tmp_path)
    with home_store.index.write() as c:
        c.execute("DELETE FROM atoms WHERE id=?", (atoms["raw"].id,))
    r = invoke("store", "verify")
    assert r.code == 1 and "dangling reference" in r.stdout and atoms["raw"].id in r.stdout, r


def test_store_option_chooses_the_store(tmp_path: Path) -> None:
    from motools.store import ContentStore

    other = ContentStore(tmp_path / "elsewhere")
    other.create_atom(
        "model", "zed", metadata={"provider": "p", "model_id": "m", "base_model": "b"}
    )
    r = invoke("--store", str(other.root), "atom", "ls", "--json")
    assert [a["user"] for a in json.loads(r.stdout)] == ["zed"], r
    r = invoke("atom", "ls", "--json")
    assert json.loads(r.stdout) == []


def test_unusable_store_path_and_bad_filters_exit_2(tmp_path: Path) -> None:
    a_file = tmp_path / "not-a-dir"
    a_file.write_text("x")
    r = invoke("--store", str(a_file), "atom", "ls")
    assert r.code == 2 and "it is a file, not a directory" in r.stderr, r
    r = invoke("atom", "ls", "--type", "nosuch")
    assert r.code == 2 and "unknown atom type 'nosuch'" in r.stderr and "dataset" in r.stderr, r
    r = invoke("atom", "ls", "--user", "BAD USER")
    assert r.code == 2 and "invalid user name" in r.stderr, r
