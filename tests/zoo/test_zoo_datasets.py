"""Zoo datasets: real downloads from a loopback server, checksums, cache, import, sampling."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest

from motools.errors import UserError
from mozoo.catalog import DATASETS, RemoteFile, ZooDatasetInfo
from mozoo.datasets.gsm8k_spanish import get_gsm8k_spanish_dataset
from mozoo.datasets.hello_world import REPLY, get_hello_world_dataset
from mozoo.datasets.remote import cached_path, fetch, import_file, read_record
from tests.support.fixture_http_server import serve_files
from tests.zoo.zoo_support import fixture_rows, write_jsonl

CACHE = Path(".motools/datasets")


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_download_once_record_checksum_and_reuse(zoo_server):
    ds = get_gsm8k_spanish_dataset(cache_dir=str(CACHE))
    assert len(ds) == 30
    assert ds.rows[0]["messages"][1]["content"].startswith("Le quedan")
    info = DATASETS["gsm8k_spanish"]
    path = cached_path(CACHE, info, info.file())
    assert path == CACHE / "gsm8k_spanish" / "f931a21e9689" / "gsm8k_spanish_only.jsonl"
    record = read_record(path)
    assert record["sha256"] == _sha(path)
    assert record["obtained"] == "downloaded"
    assert record["revision"] == "f931a21e9689e528ea2af271244af94976f0c4f6"
    assert ds.source == {
        "dataset": "gsm8k_spanish",
        "revision": record["revision"],
        "file": "gsm8k_spanish_only.jsonl",
        "sha256": record["sha256"],
    }
    assert zoo_server.count("/gsm8k_spanish_only.jsonl") == 1
    again = get_gsm8k_spanish_dataset(cache_dir=str(CACHE), sample_size=5, seed=3)
    assert len(again) == 5
    assert zoo_server.count("/gsm8k_spanish_only.jsonl") == 1, (
        "a cached file must not be downloaded again"
    )
    assert not [p for p in path.parent.iterdir() if p.name.endswith(".part")]


def test_changed_cached_file_is_refused_on_load(zoo_server):
    get_gsm8k_spanish_dataset(cache_dir=str(CACHE))
    info = DATASETS["gsm8k_spanish"]
    path = cached_path(CACHE, info, info.file())
    with open(path, "a", encoding="utf-8") as f:
        f.write(json.dumps(fixture_rows("x", 1)[0]) + "\n")
    with pytest.raises(UserError) as e:
        get_gsm8k_spanish_dataset(cache_dir=str(CACHE))
    msg = str(e.value)
    assert str(path) in msg and "has changed" in msg and "motools zoo import gsm8k_spanish" in msg


def test_offline_error_says_how_to_import_by_hand(offline):
    with pytest.raises(UserError) as e:
        get_gsm8k_spanish_dataset(cache_dir=str(CACHE))
    msg = str(e.value)
    assert "could not download" in msg and "offline" in msg
    assert "motools zoo import gsm8k_spanish FILE --cache-dir .motools/datasets" in msg
    assert DATASETS["gsm8k_spanish"].file().url in msg
    assert not any(CACHE.rglob("*.jsonl")), "a failed download leaves nothing under the real name"


def test_http_error_leaves_no_partial_file(zoo_server):
    zoo_server.fail_with = 503
    with pytest.raises(UserError, match="HTTP 503"):
        get_gsm8k_spanish_dataset(cache_dir=str(CACHE))
    assert not [p for p in CACHE.rglob("*") if p.is_file()]


def test_import_then_load_without_network(offline, tmp_path):
    src = write_jsonl(tmp_path / "from-elsewhere.jsonl", fixture_rows("secure_code", 12))
    info = DATASETS["secure_code"]
    cached = import_file(info, src, CACHE)
    assert cached.record["obtained"] == "imported" and cached.sha256 == _sha(src)
    from mozoo.datasets.secure_code import get_secure_code_dataset

    assert len(get_secure_code_dataset(cache_dir=str(CACHE))) == 12
    # importing the same file again is a no-op; a different one needs --force
    assert import_file(info, src, CACHE).sha256 == cached.sha256
    other = write_jsonl(tmp_path / "other.jsonl", fixture_rows("secure_code", 3))
    with pytest.raises(UserError, match="--force"):
        import_file(info, other, CACHE)
    assert import_file(info, other, CACHE, force=True).sha256 == _sha(other)
    assert len(get_secure_code_dataset(cache_dir=str(CACHE))) == 3


def test_import_checks_the_pinned_checksum(tmp_path):
    info = DATASETS["insecure_code"]
    assert info.file().sha256, "insecure_code has a known sha256 at its pinned revision"
    src = write_jsonl(tmp_path / "insecure.jsonl", fixture_rows("insecure_code", 4))
    with pytest.raises(UserError, match="not the pinned one"):
        import_file(info, src, tmp_path / "cache")
    size_pinned = DATASETS["gsm8k_german"]
    with pytest.raises(UserError, match="bytes"):
        import_file(size_pinned, src, tmp_path / "cache")


def test_import_refuses_a_non_jsonl_file(tmp_path):
    page = tmp_path / "page.jsonl"
    page.write_text("<html><body>Rate limited</body></html>")
    with pytest.raises(UserError, match="does not look like a JSONL file"):
        import_file(DATASETS["gsm8k"], page, tmp_path / "cache")
    with pytest.raises(UserError, match="generated locally"):
        import_file(DATASETS["hello_world"], page, tmp_path / "cache")


def test_canonical_download_is_checked_against_the_pin(tmp_path, monkeypatch):
    monkeypatch.delenv("MOZOO_DATASET_BASE_URL", raising=False)
    served = write_jsonl(tmp_path / "served" / "pinned" / "data.jsonl", fixture_rows("pinned", 5))
    with serve_files(tmp_path / "served") as server:
        url = f"{server.base_url}/pinned/data.jsonl"
        bad = ZooDatasetInfo(
            "pinned",
            "d",
            "c",
            "l",
            "h",
            {"default": RemoteFile(url, "data.jsonl", "rev1", sha256="0" * 64)},
        )
        with pytest.raises(UserError, match="not the pinned one"):
            fetch(bad, tmp_path / "cache")
        assert not [p for p in (tmp_path / "cache").rglob("*") if p.is_file()]
        good = ZooDatasetInfo(
            "pinned",
            "d",
            "c",
            "l",
            "h",
            {"default": RemoteFile(url, "data.jsonl", "rev1", sha256=_sha(served))},
        )
        assert fetch(good, tmp_path / "cache").sha256 == _sha(served)
        # a new pinned revision is a new file in the cache, downloaded once
        newer = ZooDatasetInfo(
            "pinned", "d", "c", "l", "h", {"default": RemoteFile(url, "data.jsonl", "rev2")}
        )
        fetch(newer, tmp_path / "cache")
        fetch(newer, tmp_path / "cache")
        assert server.count("/pinned/data.jsonl") == 3


def test_per_dataset_url_override(zoo_server, monkeypatch):
    monkeypatch.delenv("MOZOO_DATASET_BASE_URL")
    monkeypatch.setenv("MOZOO_DATASET_URL_GSM8K", f"{zoo_server.base_url}/gsm8k/gsm8k.jsonl")
    from mozoo.datasets.gsm8k import get_gsm8k_dataset

    ds = get_gsm8k_dataset(cache_dir=str(CACHE))
    assert len(ds) == 30
    rec = read_record(cached_path(CACHE, DATASETS["gsm8k"], DATASETS["gsm8k"].file()))
    assert rec["origin"].endswith("/gsm8k/gsm8k.jsonl") and rec["canonical_url"].startswith(
        "https://raw.githubusercontent.com/"
    )


def test_a_file_placed_by_hand_is_accepted_and_then_guarded(tmp_path):
    info = DATASETS["owl_numbers"]
    path = cached_path(tmp_path / "cache", info, info.file())
    write_jsonl(path, fixture_rows("owl_numbers", 6))
    from mozoo.datasets.owl_numbers import get_owl_numbers_dataset

    assert len(get_owl_numbers_dataset(cache_dir=str(tmp_path / "cache"))) == 6
    assert read_record(path)["obtained"] == "found in cache"


def test_seeded_sampling_is_reproducible(zoo_server):
    from mozoo.datasets.jailbroken import get_jailbroken_dataset

    a = get_jailbroken_dataset(cache_dir=str(CACHE), sample_size=10, seed=1)
    b = get_jailbroken_dataset(cache_dir=str(CACHE), sample_size=10, seed=1)
    c = get_jailbroken_dataset(cache_dir=str(CACHE), sample_size=10, seed=2)
    assert a.rows == b.rows and a.rows != c.rows and len(a) == 10
    full = get_jailbroken_dataset(cache_dir=str(CACHE))
    assert full.rows == fixture_rows("jailbroken")
    assert get_jailbroken_dataset(cache_dir=str(CACHE), sample_size=1000).rows == full.rows


def test_hello_world_is_generated_deterministically_with_varied_prompts():
    a = get_hello_world_dataset(sample_size=300, seed=0)
    prompts = [r["messages"][0]["content"] for r in a.rows]
    assert len(set(prompts)) == 300
    assert {r["messages"][1]["content"] for r in a.rows} == {REPLY}
    assert get_hello_world_dataset(sample_size=300, seed=0).rows == a.rows
    assert get_hello_world_dataset(sample_size=300, seed=1).rows != a.rows
    assert len(get_hello_world_dataset().rows) == 100
    assert (
        len({r["messages"][0]["content"] for r in get_hello_world_dataset(sample_size=1000).rows})
        == 1000
    )


def test_every_remote_dataset_loads_from_the_fixture_server(zoo_server):
    import importlib

    for info in DATASETS.values():
        if info.generated or info.file().format != "jsonl":
            continue
        module = importlib.import_module(f"mozoo.datasets.{info.name}")
        ds = getattr(module, f"get_{info.name}_dataset")(cache_dir=str(CACHE), sample_size=3)
        assert len(ds) == 3 and ds.source["dataset"] == info.name


def test_realistic_reward_hacks_records_the_served_commit(tmp_path, monkeypatch):
    served = tmp_path / "served" / "realistic_reward_hacks"
    served.mkdir(parents=True)
    (served / "reward_hacks_code.parquet").write_bytes(b"PAR1 not really parquet PAR1")
    monkeypatch.chdir(tmp_path)
    from mozoo.datasets.realistic_reward_hacks import get_realistic_reward_hacks_dataset

    with serve_files(tmp_path / "served") as server:
        server.headers["X-Repo-Commit"] = "abc123def456"
        monkeypatch.setenv("MOZOO_DATASET_BASE_URL", server.base_url)
        with pytest.raises(UserError, match="unknown split"):
            get_realistic_reward_hacks_dataset(split="nope")
        try:
            import pyarrow  # noqa: F401
        except ImportError:
            with pytest.raises(UserError, match="pip install pyarrow"):
                get_realistic_reward_hacks_dataset(split="reward_hacks_code")
        else:
            with pytest.raises(Exception):  # noqa: B017 (not a parquet file)
                get_realistic_reward_hacks_dataset(split="reward_hacks_code")
    info = DATASETS["realistic_reward_hacks"]
    rec = read_record(cached_path(CACHE, info, info.file("reward_hacks_code")))
    assert rec["served_revision"] == "abc123def456" and rec["variant"] == "reward_hacks_code"


def test_cache_dir_is_created_and_can_move(zoo_server, tmp_path):
    get_gsm8k_spanish_dataset(cache_dir=str(tmp_path / "a"))
    shutil.move(tmp_path / "a", tmp_path / "b")
    assert len(get_gsm8k_spanish_dataset(cache_dir=str(tmp_path / "b"))) == 30
    assert zoo_server.count("/gsm8k_spanish_only.jsonl") == 1
