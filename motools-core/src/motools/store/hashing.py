"""Streaming sha256 of files and directory trees (memory independent of size)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

CHUNK = 1 << 20  # 1 MiB: large enough to run at hashlib's speed, small in memory


def hash_file(path: Path) -> tuple[str, int]:
    """Return (sha256 hex, size) of a file, reading it in 1 MiB chunks."""
    h = hashlib.sha256()
    size = 0
    buf = bytearray(CHUNK)
    view = memoryview(buf)
    with open(path, "rb", buffering=0) as f:
        while True:
            n = f.readinto(buf)
            if not n:
                break
            h.update(view[:n])
            size += n
    return h.hexdigest(), size


_FINGERPRINTS: dict[tuple[str, int, int], str] = {}


def file_fingerprint(path: Path) -> str:
    """sha256 (16 hex digits) of a file, memoised per (path, size, mtime) in this process.

    For cache keys that must follow a local file's content (a base model, a loader's
    data file) without re-reading it on every plan.
    """
    st = path.stat()
    memo = (str(path.resolve()), st.st_size, st.st_mtime_ns)
    if memo not in _FINGERPRINTS:
        _FINGERPRINTS[memo] = hash_file(path)[0][:16]
    return _FINGERPRINTS[memo]


def copy_and_hash(src: Path, dst: Path) -> tuple[str, int]:
    """Copy ``src`` to ``dst`` (fsynced) hashing in the same pass; return (sha256, size)."""
    h = hashlib.sha256()
    size = 0
    buf = bytearray(CHUNK)
    view = memoryview(buf)
    with open(src, "rb", buffering=0) as fi, open(dst, "wb", buffering=0) as fo:
        while True:
            n = fi.readinto(buf)
            if not n:
                break
            h.update(view[:n])
            fo.write(view[:n])
            size += n
        os.fsync(fo.fileno())
    return h.hexdigest(), size


def tree_digest(entries: list[tuple[str, str, int]]) -> str:
    """Hash of a tree given (relative posix path, file sha256, size) entries."""
    h = hashlib.sha256()
    for rel, digest, size in sorted(entries):
        h.update(f"{rel}\0{digest}\0{size}\n".encode())
    return h.hexdigest()


def hash_tree(root: Path) -> tuple[str, int, list[tuple[str, str, int]]]:
    """Hash every file under ``root``; return (tree digest, total bytes, entries)."""
    entries = []
    total = 0
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            p = Path(dirpath) / name
            digest, size = hash_file(p)
            entries.append((p.relative_to(root).as_posix(), digest, size))
            total += size
    return tree_digest(entries), total, entries
