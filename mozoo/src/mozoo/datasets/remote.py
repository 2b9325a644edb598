"""The dataset file cache: pinned download, checksum record and verification, import.

A cached file lives at ``<cache_dir>/<dataset>/<revision>/<filename>`` with a record
``<filename>.source.json`` beside it (revision, URL, sha256, size, how it was obtained).
Downloads stream into a temporary file in the same directory and are renamed into
place only when complete, so a crash never leaves a half file under the real name.

Every load verifies the file's sha256 against its record (and against the pinned
checksum when the catalog knows one).  URLs can be redirected, e.g. to a mirror or to a
test server: ``MOZOO_DATASET_URL_<NAME>`` (or ``MOZOO_DATASET_URL_<NAME>_<VARIANT>``)
replaces one dataset's URL, ``MOZOO_DATASET_BASE_URL`` replaces everything before the
file name for all datasets.  A redirected download is trusted on first use: its
checksum is recorded and verified from then on.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from motools.errors import UserError
from motools.store.hashing import hash_file
from mozoo.catalog import RemoteFile, ZooDatasetInfo

DOWNLOAD_TIMEOUT_S = float(os.environ.get("MOZOO_DOWNLOAD_TIMEOUT", "60"))
_CHUNK = 1 << 20


@dataclass
class CachedFile:
    """A verified file in the cache and its record."""

    path: Path
    record: dict[str, Any]

    @property
    def sha256(self) -> str:
        return str(self.record["sha256"])


def cached_path(cache_dir: str | Path, info: ZooDatasetInfo, spec: RemoteFile) -> Path:
    """Where ``spec`` of ``info`` lives in ``cache_dir`` (one directory per revision)."""
    return Path(cache_dir).expanduser() / info.name / spec.revision[:12] / spec.filename


def record_path(path: Path) -> Path:
    return path.with_name(path.name + ".source.json")


def resolve_url(info: ZooDatasetInfo, variant: str, spec: RemoteFile) -> tuple[str, bool]:
    """The URL to fetch and whether it is the canonical (pinned) one."""
    keys = [f"MOZOO_DATASET_URL_{info.name.upper()}_{variant.upper()}"]
    if variant == info.default_variant:
        keys.append(f"MOZOO_DATASET_URL_{info.name.upper()}")
    for key in keys:
        if os.environ.get(key):
            return os.environ[key], False
    base = os.environ.get("MOZOO_DATASET_BASE_URL")
    if base:
        return f"{base.rstrip('/')}/{info.name}/{spec.filename}", False
    return spec.url, True


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _write_record(path: Path, record: dict[str, Any]) -> None:
    rp = record_path(path)
    tmp = rp.with_name(f".{rp.name}.{uuid.uuid4().hex}.tmp")
    tmp.write_text(json.dumps(record, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(tmp, rp)


def read_record(path: Path) -> dict[str, Any] | None:
    rp = record_path(path)
    if not rp.is_file():
        return None
    try:
        data = json.loads(rp.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None
    return data if isinstance(data, dict) else None


def _import_hint(
    info: ZooDatasetInfo, variant: str, spec: RemoteFile, cache_dir: str | Path
) -> str:
    var = "" if variant == info.default_variant else f" --variant {variant}"
    return (
        f"To provide the file by hand, download {spec.url} on a machine with network "
        f"access, copy it here and run:\n"
        f"    motools zoo import {info.name} FILE{var} --cache-dir {cache_dir}"
    )


def _check_expected(
    info: ZooDatasetInfo, spec: RemoteFile, sha: str, size: int, where: str
) -> None:
    if spec.sha256 and sha != spec.sha256:
        raise UserError(
            f"dataset {info.name!r}: {where} has sha256 {sha}, but revision {spec.revision} "
            f"of {spec.filename} is pinned to {spec.sha256}: the file is not the pinned one"
        )
    if spec.size is not None and size != spec.size:
        raise UserError(
            f"dataset {info.name!r}: {where} is {size} bytes, but {spec.filename} at "
            f"revision {spec.revision} is {spec.size} bytes: the file is not the pinned one"
        )


def fetch(
    info: ZooDatasetInfo,
    cache_dir: str | Path,
    variant: str | None = None,
    spec: RemoteFile | None = None,
) -> CachedFile:
    """The cached file of ``info``'s ``variant``: verified, downloaded once if missing.

    Raises :class:`UserError` when the cached file does not match its recorded
    checksum, when a download fails (saying how to import the file by hand), or when a
    file does not match its pinned checksum.
    """
    variant = variant or info.default_variant
    spec = spec or info.file(variant)
    path = cached_path(cache_dir, info, spec)
    if path.is_file():
        return _verify_cached(info, variant, spec, path, read_record(path))
    return _download(info, variant, spec, path, cache_dir)


def _verify_cached(
    info: ZooDatasetInfo, variant: str, spec: RemoteFile, path: Path, record: dict[str, Any] | None
) -> CachedFile:
    sha = hash_file(path)[0]
    size = path.stat().st_size
    if record is None:
        # Placed by hand without `motools zoo import`: accept it once, then guard it.
        _check_expected(info, spec, sha, size, str(path))
        record = _new_record(info, variant, spec, sha, size, "found in cache", str(path))
        _write_record(path, record)
        return CachedFile(path, record)
    if sha != record.get("sha256"):
        raise UserError(
            f"dataset {info.name!r}: cached file {path} has changed since it was "
            f"{record.get('obtained', 'recorded')} on {record.get('at', '?')} (sha256 "
            f"{sha}, recorded {record.get('sha256')}). Delete it to download it again, or "
            f"re-import it with `motools zoo import {info.name} FILE --force`."
        )
    # The record was checked against the pinned checksum when it was made (except for a
    # redirected download, trusted on first use); matching it is enough from now on.
    return CachedFile(path, record)


def _new_record(
    info: ZooDatasetInfo,
    variant: str,
    spec: RemoteFile,
    sha: str,
    size: int,
    obtained: str,
    origin: str,
    served_revision: str | None = None,
) -> dict[str, Any]:
    rec = {
        "dataset": info.name,
        "variant": variant,
        "filename": spec.filename,
        "revision": spec.revision,
        "canonical_url": spec.url,
        "origin": origin,
        "obtained": obtained,
        "sha256": sha,
        "size": size,
        "at": _now(),
    }
    if served_revision:
        rec["served_revision"] = served_revision
    return rec


def _download(
    info: ZooDatasetInfo, variant: str, spec: RemoteFile, path: Path, cache_dir: str | Path
) -> CachedFile:
    url, canonical = resolve_url(info, variant, spec)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex}.part")
    h = hashlib.sha256()
    size = 0
    served_revision = None
    try:
        req = urllib.request.Request(url, headers={"User-Agent": "mozoo (motools dataset cache)"})
        with (
            urllib.request.urlopen(req, timeout=DOWNLOAD_TIMEOUT_S) as resp,
            open(tmp, "wb") as out,
        ):
            served_revision = resp.headers.get("X-Repo-Commit")
            for chunk in iter(lambda: resp.read(_CHUNK), b""):
                h.update(chunk)
                size += len(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
    except (urllib.error.URLError, OSError, TimeoutError, ValueError) as e:
        tmp.unlink(missing_ok=True)
        reason = getattr(e, "reason", None) or e
        status = (
            f"HTTP {e.code}"
            if isinstance(e, urllib.error.HTTPError)
            else f"{type(e).__name__}: {reason}"
        )
        raise UserError(
            f"dataset {info.name!r}: could not download {url} ({status}). This machine may "
            f"be offline.\n{_import_hint(info, variant, spec, cache_dir)}"
        ) from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    sha = h.hexdigest()
    if canonical:
        try:
            _check_expected(info, spec, sha, size, f"the download from {url}")
        except UserError:
            tmp.unlink(missing_ok=True)
            raise
    os.replace(tmp, path)
    record = _new_record(info, variant, spec, sha, size, "downloaded", url, served_revision)
    _write_record(path, record)
    return CachedFile(path, record)


def import_file(
    info: ZooDatasetInfo,
    src: str | Path,
    cache_dir: str | Path,
    variant: str | None = None,
    force: bool = False,
    spec: RemoteFile | None = None,
) -> CachedFile:
    """Place a file obtained elsewhere into the cache (atomically), after verifying it.

    The file must match the pinned checksum when the catalog knows one.  An existing
    cached file with a different checksum is only replaced with ``force``.
    """
    if info.generated:
        raise UserError(f"dataset {info.name!r} is generated locally: there is no file to import")
    variant = variant or info.default_variant
    spec = spec or info.file(variant)
    src = Path(src).expanduser()
    if not src.is_file():
        raise UserError(f"{src}: no such file")
    sha = hash_file(src)[0]
    size = src.stat().st_size
    _check_expected(info, spec, sha, size, str(src))
    if spec.format == "jsonl":
        _check_jsonl(src)
    path = cached_path(cache_dir, info, spec)
    old = read_record(path)
    if path.is_file() and not force:
        current = hash_file(path)[0]
        if current != sha:
            raise UserError(
                f"dataset {info.name!r}: {path} already holds a different file (sha256 "
                f"{current}); pass --force to replace it with {src} (sha256 {sha})"
            )
        if old is not None and old.get("sha256") == sha:
            return CachedFile(path, old)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex}.part")
    try:
        shutil.copyfile(src, tmp)
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    record = _new_record(info, variant, spec, sha, size, "imported", str(src.resolve()))
    _write_record(path, record)
    return CachedFile(path, record)


def _check_jsonl(path: Path) -> None:
    """Refuse an obviously wrong file (HTML error page, wrong format) before import."""
    with open(path, "rb") as f:
        head = f.read(4096).lstrip()
    if not head.startswith(b"{"):
        raise UserError(
            f"{path}: does not look like a JSONL file (it should start with '{{'); "
            "was an error page saved instead of the dataset?"
        )
