"""The content-addressed store and atoms, in-process: ids, dedup, helpers, provenance."""

from __future__ import annotations

import json
import os
import re
import stat
import time
from pathlib import Path
from typing import Any

import pytest

from motools.atoms import Atom, DatasetAtom, ModelAtom, atom_type_of, parse_atom_id, validate_user
from motools.errors import AtomNotFound, ConfigError, InvalidAtomId, UnknownNameError, UserError
from motools.hookspecs import hookimpl
from tests.support.core_workflows import write_chat_jsonl


def _dataset(
    store: Any, tmp_path: Path, replies: list[str], user: str = "alice", **kw: Any
) -> DatasetAtom:
    # same file name every time: the names of an atom's files are part of its content
    d = tmp_path / f"src{len(list(tmp_path.iterdir()))}"
    d.mkdir()
    path = write_chat_jsonl(d / "data.jsonl", replies)
    atom = store.create_atom("dataset", user, path, **kw)
    assert isinstance(atom, DatasetAtom)
    return atom


def _objects(store: Any) -> list[Path]:
    return [d for d in store.objects_dir.glob("*/*") if d.is_dir()]


def test_ids_are_type_user_hash(store: Any, tmp_path: Path) -> None:
    atom = _dataset(store, tmp_path, ["hi"])
    assert re.fullmatch(r"dataset-alice-[0-9a-f]{16}", atom.id)
    assert atom.type == "dataset" and atom.user == "alice"
    assert atom_type_of(atom.id) == atom.id.split("-")[0] == "dataset"
    assert parse_atom_id(atom.id) == ("dataset", "alice", atom.hash)
    assert Atom.load(atom.id) == atom  # the process default store is this store
    assert parse_atom_id("dataset-example-user-0123456789abcdef").user == "example-user"


@pytest.mark.parametrize("user", ["Alice", "a b", "", "bob!", "x" * 65, "-x", "x-", "é"])
def test_bad_user_names_are_clear_errors(store: Any, tmp_path: Path, user: str) -> None:
    with pytest.raises(UserError, match="invalid user name.*lowercase letters, digits and '_'"):
        validate_user(user)
    with pytest.raises(UserError, match="invalid user name"):
        store.create_atom("dataset", user, metadata={"x": 1})


@pytest.mark.parametrize(
    "bad",
    [
        "dataset",
        "dataset-alice",
        "dataset-alice-xyz",
        "dataset-alice-0123abc",
        "Dataset-alice-0123456789abcdef",
        "dataset--0123456789abcdef",
        "data set-alice-0123456789abcdef",
    ],
)
def test_malformed_ids_are_clear_errors(store: Any, bad: str) -> None:
    with pytest.raises(InvalidAtomId, match=r"malformed atom id .*\{type\}-\{user\}-\{hash\}"):
        store.get_atom(bad)


def test_unknown_atom_id_names_id_and_store(store: Any) -> None:
    with pytest.raises(
        AtomNotFound,
        match=f"no atom 'dataset-bob-0123456789abcdef' in the store at {re.escape(str(store.root))}",
    ):
        store.get_atom("dataset-bob-0123456789abcdef")


def test_identical_content_is_stored_once_and_shared_between_users(
    store: Any, tmp_path: Path
) -> None:
    a = _dataset(store, tmp_path, ["same"], user="alice")
    again = _dataset(store, tmp_path, ["same"], user="alice")
    by_bob = _dataset(store, tmp_path, ["same"], user="bob")
    assert a.id == again.id == by_bob.id  # the hash covers content, not the creator
    assert len(store.list_atoms()) == 1
    # same bytes with other metadata: another atom, but the bytes are stored once
    other = _dataset(store, tmp_path, ["same"], metadata={"note": "x"})
    assert other.id != a.id and other.content_hash == a.content_hash
    assert len(_objects(store)) == 1
    assert len({a.id, _dataset(store, tmp_path, ["different"]).id}) == 2
    assert len(_objects(store)) == 2


def test_hash_covers_the_type_schema_version(store: Any, plugins: Any) -> None:
    def plugin_with(version: int) -> Any:
        class Note(Atom):
            type = "note"
            schema_version = version

        class Plugin:
            @hookimpl
            def register_atom_types(self, register: Any) -> None:
                register(Note)

        return Plugin()

    plugins.names.append("note_v1")
    from motools import plugins as pl

    pl.register_plugin(plugin_with(1), name="note_v1")
    v1 = store.create_atom("note", "alice", metadata={"text": "hi"})
    pl.unregister_plugin("note_v1")
    pl.register_plugin(plugin_with(2), name="note_v2")
    plugins.names.append("note_v2")
    v2 = store.create_atom("note", "alice", metadata={"text": "hi"})
    assert v1.id != v2.id


def test_atom_files_are_read_only_and_metadata_is_a_copy(store: Any, tmp_path: Path) -> None:
    src = write_chat_jsonl(tmp_path / "src.jsonl", ["x"])
    atom = store.create_atom("dataset", "alice", src, metadata={"k": [1]})
    assert src.exists(), "copying must leave the source in place"
    for f in atom.files():
        assert stat.S_IMODE(f.stat().st_mode) & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH) == 0
    atom.metadata["k"].append(2)
    assert Atom.load(atom.id).metadata == {"k": [1]}
    with pytest.raises(AttributeError):
        atom.id = "dataset-alice-0000000000000000"  # type: ignore[misc]


def test_get_data_path_holds_the_files_and_directory_trees_are_kept(
    store: Any, tmp_path: Path
) -> None:
    d = tmp_path / "tree"
    (d / "sub").mkdir(parents=True)
    (d / "a.txt").write_text("A")
    (d / "sub" / "b.txt").write_text("BB")
    atom = store.create_atom(
        "model", "alice", d, metadata={"provider": "hf", "model_id": "m", "base_model": "b"}
    )
    root = atom.get_data_path()
    assert root.is_dir() and root.name == atom.content_hash
    assert (root / "a.txt").read_text() == "A" and (root / "sub" / "b.txt").read_text() == "BB"
    assert [p.relative_to(root).as_posix() for p in atom.files()] == ["a.txt", "sub/b.txt"]
    assert atom.size_bytes == 3
    assert isinstance(atom, ModelAtom) and atom.provider == "hf"


def test_move_takes_the_file_from_a_workspace(store: Any) -> None:
    ws = store.new_workspace()
    src = write_chat_jsonl(ws / "d.jsonl", ["moved"])
    atom = store.create_atom("dataset", "alice", src, move=True)
    assert not src.exists()
    assert [r["messages"][1]["content"] for r in atom.iter_rows()] == ["moved"]


def test_metadata_only_atom(store: Any) -> None:
    atom = store.create_atom(
        "model", "alice", metadata={"provider": "openai", "model_id": "ft:x", "base_model": "gpt"}
    )
    assert atom.content_hash is None and atom.files() == [] and atom.size_bytes == 0
    with pytest.raises(UserError, match="does not exist"):
        store.create_atom("dataset", "alice", "/no/such/file.jsonl")


def test_dataset_helpers_iterate_count_and_sample(store: Any, tmp_path: Path) -> None:
    replies = [f"r{i}" for i in range(20)]
    atom = _dataset(store, tmp_path, replies)
    assert [r["messages"][1]["content"] for r in atom.iter_rows()] == replies
    assert atom.count() == 20 and atom.validate() == 20
    assert atom.jsonl_path.suffix == ".jsonl"
    s1, s2 = atom.sample(5, seed=1), atom.sample(5, seed=1)
    assert s1 == s2 and len(s1) == 5
    assert atom.sample(5, seed=2) != s1
    assert len(atom.sample(100)) == 20
    with_meta = store.create_atom("dataset", "alice", atom.jsonl_path, metadata={"num_rows": 20})
    assert with_meta.count() == 20


def test_dataset_validate_names_the_row(store: Any, tmp_path: Path) -> None:
    rows = [
        {"messages": [{"role": "user", "content": "ok"}]},
        {"messages": [{"role": "user", "content": "ok"}]},
        {"messages": [{"role": "user", "content": "q"}, {"role": "robot", "content": "a"}]},
    ]
    p = tmp_path / "bad.jsonl"
    p.write_text("".join(json.dumps(r) + "\n" for r in rows))
    atom = store.create_atom("dataset", "alice", p)
    with pytest.raises(UserError, match=r"row 3: messages\[1\]\.role is 'robot'; expected one of"):
        atom.validate()
    p2 = tmp_path / "badjson.jsonl"
    p2.write_text(json.dumps(rows[0]) + "\n{not json\n")
    atom2 = store.create_atom("dataset", "alice", p2)
    with pytest.raises(UserError, match="line 2 is not valid JSON"):
        atom2.count()
    p3 = tmp_path / "nomsg.jsonl"
    p3.write_text('{"prompt": "x"}\n')
    with pytest.raises(UserError, match="row 1: expected an object with a 'messages' list"):
        store.create_atom("dataset", "alice", p3).validate()


def test_typed_load_refuses_another_type(store: Any, tmp_path: Path) -> None:
    ds = _dataset(store, tmp_path, ["x"])
    assert DatasetAtom.load(ds.id) == ds
    with pytest.raises(UserError, match="is a 'dataset', not a 'model'"):
        ModelAtom.load(ds.id)


def test_provenance_is_recorded_and_lineage_walks_it(store: Any, tmp_path: Path) -> None:
    raw = _dataset(store, tmp_path, ["raw"])
    prep = _dataset(
        store,
        tmp_path,
        ["prepared"],
        parents={"raw": raw.id},
        provenance={"workflow": "wf", "run_id": "r1", "step": "prepare"},
    )
    job = store.create_atom(
        "training_job",
        "alice",
        metadata={"backend": "test", "job_id": "j1"},
        parents={"prepared_dataset": prep.id},
    )
    model = store.create_atom(
        "model",
        "alice",
        metadata={"provider": "test", "model_id": "m", "base_model": "b"},
        parents={"job": job.id},
    )
    p = prep.provenance
    assert p["made_from"] == {"raw": raw.id}
    assert (p["workflow"], p["run_id"], p["step"], p["created_by"]) == (
        "wf",
        "r1",
        "prepare",
        "alice",
    )
    assert p["versions"]["motools-core"]
    assert p["created_at"] == prep.created_at

    up = store.lineage(model.id)
    assert up["id"] == model.id
    assert [n["id"] for n in up["parents"]] == [job.id]
    assert up["parents"][0]["role"] == "job"
    chain = up["parents"][0]["parents"][0]
    assert (chain["id"], chain["role"], chain["step"]) == (prep.id, "prepared_dataset", "prepare")
    assert chain["parents"][0]["id"] == raw.id

    down = store.lineage(raw.id, down=True)
    assert down["children"][0]["id"] == prep.id
    assert down["children"][0]["children"][0]["children"][0]["id"] == model.id

    with pytest.raises(InvalidAtomId):
        store.create_atom("dataset", "alice", metadata={}, parents={"raw": "not-an-id"})


def test_unknown_atom_type_names_type_and_plugins(store: Any) -> None:
    with pytest.raises(
        UnknownNameError,
        match=r"unknown atom type 'checkpoint'.*registered types are \['dataset', 'eval', 'model', 'training_job'\].*installed plugins: \[.*motools.default_plugins.atom_types",
    ):
        store.create_atom("checkpoint", "alice", metadata={})
    with pytest.raises(UserError, match="invalid atom type name 'my-type'"):
        store.create_atom("my-type", "alice", metadata={})


def test_kv_values_are_json(store: Any) -> None:
    assert store.kv_get("ns", "k") is None
    store.kv_set("ns", "k", {"job_id": "j", "n": [1, 2]})
    assert store.kv_get("ns", "k") == {"job_id": "j", "n": [1, 2]}
    store.kv_delete("ns", "k")
    assert store.kv_get("ns", "k") is None


def test_stats_verify_and_gc(store: Any, tmp_path: Path) -> None:
    a = _dataset(store, tmp_path, ["one", "two"])
    store.create_atom(
        "model", "alice", metadata={"provider": "p", "model_id": "m", "base_model": "b"}
    )
    s = store.stats()
    assert s["atoms"]["dataset"] == {"count": 1, "bytes": a.size_bytes}
    assert s["atoms"]["model"]["count"] == 1 and s["total_atoms"] == 2 and s["objects"] == 1
    assert store.verify() == []

    orphan = store.objects_dir / "ab" / ("ab" + "0" * 62)
    orphan.mkdir(parents=True)
    (orphan / "x").write_bytes(b"12345")
    fresh = store.gc(dry_run=True)
    assert fresh["removed_objects"] == [] and fresh["kept_recent_objects"] == [orphan.name]
    os.utime(orphan, (time.time() - 7200, time.time() - 7200))  # older than the grace period
    dry = store.gc(dry_run=True)
    assert dry["removed_objects"] == [orphan.name] and dry["freed_bytes"] == 5 and orphan.exists()
    done = store.gc()
    assert done["removed_objects"] == [orphan.name] and not orphan.exists()
    assert a.get_data_path().is_dir()
    assert store.gc()["removed_objects"] == []


def test_store_location_and_user_from_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from motools import settings

    monkeypatch.setenv("MOTOOLS_HOME", str(tmp_path / "from_env"))
    assert settings.store_dir() == tmp_path / "from_env"
    settings.set_store_override(tmp_path / "from_flag")
    assert settings.store_dir() == tmp_path / "from_flag"
    settings.set_store_override(None)

    monkeypatch.delenv("MOTOOLS_HOME")
    cfg = Path(settings.config_file())
    cfg.write_text(f"user: carol\nstore: {tmp_path / 'from_config'}\n")
    assert settings.store_dir() == tmp_path / "from_config"
    assert settings.default_user() == "carol"
    cfg.write_text("usr: carol\n")
    with pytest.raises(ConfigError, match=r"unknown keys \['usr'\]"):
        settings.default_user()
    cfg.unlink()
    monkeypatch.setenv("USER", "Dr. Who")
    assert settings.default_user() == "dr__who"
