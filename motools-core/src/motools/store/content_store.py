"""The content-addressed store: immutable object directories plus a SQLite index.

Layout of a store directory::

    index.sqlite          atoms, provenance edges, step cache, runs, leases, kv
    objects/ab/abcdef...  one read-only directory per distinct content (sha256 of the tree)
    tmp/                  staging area; everything here is invisible until renamed

Writing an atom: files are staged under ``tmp/`` (fsynced), the staging directory is
renamed to ``objects/<hash>`` (atomic), then one SQLite transaction inserts the atom and
its provenance edges.  A crash at any point leaves at worst an unreferenced object
(removed by ``gc``); no half atom is ever visible.  Metadata is JSON, never pickle.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from motools.atoms.base import Atom
from motools.atoms.ids import HASH_LEN, parse_atom_id, validate_type_name, validate_user
from motools.errors import AtomNotFound, UnknownNameError, UserError
from motools.store.hashing import copy_and_hash, hash_file, hash_tree, tree_digest
from motools.store.index import Index


def utcnow() -> str:
    """Current UTC time, ISO-8601 with microseconds."""
    return datetime.now(UTC).isoformat(timespec="microseconds")


def canonical_json(obj: Any) -> str:
    """Deterministic JSON (sorted keys, no whitespace) used for hashing."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _readonly(path: Path) -> None:
    mode = path.stat().st_mode
    path.chmod(mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))


# Unreferenced objects younger than this may belong to a write in progress (see gc).
GC_GRACE_S = 3600.0


class ContentStore:
    """One store directory. Safe to share between threads and processes."""

    def __init__(self, root: str | Path):
        self.root = Path(root).expanduser().resolve()
        self.objects_dir = self.root / "objects"
        self.tmp_dir = self.root / "tmp"
        for d in (self.root, self.objects_dir, self.tmp_dir):
            d.mkdir(parents=True, exist_ok=True)
        self.index = Index(self.root / "index.sqlite")

    # -- paths -----------------------------------------------------------------
    def data_path(self, content_hash: str | None) -> Path:
        """Object directory of a content hash (an empty placeholder for ``None``)."""
        if not content_hash:
            return self.objects_dir / "empty"
        return self.objects_dir / content_hash[:2] / content_hash

    def new_workspace(self, prefix: str = "ws") -> Path:
        """A fresh private directory under ``tmp/`` (same filesystem as the objects)."""
        p = self.tmp_dir / f"{prefix}-{uuid.uuid4().hex}"
        p.mkdir(parents=True)
        return p

    # -- writing ---------------------------------------------------------------
    def _stage(self, src: Path, move: bool) -> tuple[str, int]:
        """Put ``src`` (file or directory) into ``objects/``; return (content hash, bytes)."""
        staging = self.new_workspace("stage")
        try:
            entries: list[tuple[str, str, int]] = []
            total = 0
            sources = (
                [(src, Path(src.name))]
                if src.is_file()
                else [
                    (Path(dp) / f, (Path(dp) / f).relative_to(src))
                    for dp, _d, files in os.walk(src)
                    for f in files
                ]
            )
            for s, rel in sources:
                dst = staging / rel
                dst.parent.mkdir(parents=True, exist_ok=True)
                if move:
                    digest, size = hash_file(s)
                    os.replace(s, dst)
                else:
                    digest, size = copy_and_hash(s, dst)
                _readonly(dst)
                entries.append((rel.as_posix(), digest, size))
                total += size
            content_hash = tree_digest(entries)
            final = self.data_path(content_hash)
            if final.exists():
                return content_hash, total
            final.parent.mkdir(parents=True, exist_ok=True)
            for d in {(staging / Path(rel)).parent for rel, _, _ in entries}:
                _fsync_dir(d)
            try:
                os.rename(staging, final)
            except OSError:
                if not final.exists():
                    raise
                return content_hash, total
            _fsync_dir(final.parent)
            return content_hash, total
        finally:
            if staging.exists():
                shutil.rmtree(staging, ignore_errors=True)

    def create_atom(
        self,
        type: str,
        user: str,
        path: str | Path | None = None,
        metadata: dict[str, Any] | None = None,
        provenance: dict[str, Any] | None = None,
        parents: dict[str, str | list[str]] | None = None,
        move: bool = False,
    ) -> Atom:
        """Store a new atom and return it (or the existing atom with identical content).

        ``path`` is a file or directory of data (copied, or moved when ``move`` is true
        and it lives on the store's filesystem).  ``parents`` maps a role to one or more
        parent atom ids and is recorded as provenance edges.
        """
        validate_type_name(type)
        validate_user(user)
        cls = self.atom_class(type)
        metadata = dict(metadata or {})
        try:
            meta_json = canonical_json(metadata)
            json.loads(meta_json)
        except (TypeError, ValueError) as e:
            raise UserError(f"atom metadata must be JSON-serialisable: {e}") from None
        content_hash: str | None = None
        size = 0
        if path is not None:
            src = Path(path)
            if not src.exists():
                raise UserError(f"cannot create {type} atom: {src} does not exist")
            content_hash, size = self._stage(src, move)
        digest = hashlib.sha256(
            canonical_json(
                {
                    "type": type,
                    "schema_version": cls.schema_version,
                    "content": content_hash,
                    "metadata": metadata,
                }
            ).encode()
        ).hexdigest()[:HASH_LEN]
        atom_id = f"{type}-{user}-{digest}"
        edges = []
        for role, ids in (parents or {}).items():
            for pid in [ids] if isinstance(ids, str) else list(ids):
                parse_atom_id(pid)
                edges.append((role, pid))
        prov = dict(provenance or {})
        prov.setdefault("created_by", user)
        prov.setdefault("created_at", utcnow())
        prov.setdefault("made_from", {})
        for role, pid in edges:
            prov["made_from"].setdefault(role, pid)
        prov.setdefault("versions", _versions())
        with self.index.write() as c:
            row = c.execute("SELECT id FROM atoms WHERE hash=?", (digest,)).fetchone()
            if row is not None:
                existing_id = row[0]
            else:
                existing_id = None
                c.execute(
                    "INSERT INTO atoms(id, hash, type, user, content_hash, size_bytes, created_at,"
                    " metadata, provenance) VALUES(?,?,?,?,?,?,?,?,?)",
                    (
                        atom_id,
                        digest,
                        type,
                        user,
                        content_hash,
                        size,
                        prov["created_at"],
                        meta_json,
                        canonical_json(prov),
                    ),
                )
                c.executemany(
                    "INSERT OR IGNORE INTO edges(child, parent, role) VALUES(?,?,?)",
                    [(atom_id, pid, role) for role, pid in edges],
                )
        return self.get_atom(existing_id or atom_id)

    # -- reading ---------------------------------------------------------------
    def atom_class(self, type_name: str) -> type[Atom]:
        """The registered class for ``type_name``; a clear error if none is."""
        from motools import plugins

        types = plugins.atom_types()
        cls = types.get(type_name)
        if cls is None:
            raise UnknownNameError(
                f"unknown atom type {type_name!r}: registered types are {sorted(types)}; "
                f"installed plugins: {plugins.plugin_names()}. Install the plugin that "
                "provides this type."
            )
        return cls

    def _row_to_record(self, row: tuple[Any, ...]) -> dict[str, Any]:
        keys = ("id", "hash", "type", "user", "content_hash", "size_bytes", "created_at")
        rec = dict(zip(keys, row[:7], strict=True))
        rec["metadata"] = json.loads(row[7])
        rec["provenance"] = json.loads(row[8])
        return rec

    _COLS = "id, hash, type, user, content_hash, size_bytes, created_at, metadata, provenance"

    def get_atom(self, atom_id: str) -> Atom:
        """The atom with this id; :class:`AtomNotFound` or :class:`InvalidAtomId` otherwise."""
        parsed = parse_atom_id(atom_id)
        rows = self.index.query(f"SELECT {self._COLS} FROM atoms WHERE id=?", (atom_id,))
        if not rows:
            raise AtomNotFound(f"no atom {atom_id!r} in the store at {self.root}")
        rec = self._row_to_record(rows[0])
        return self.atom_class(parsed.type)(rec, self)

    def has_atom(self, atom_id: str) -> bool:
        """Whether the atom exists in the index."""
        return bool(self.index.query("SELECT 1 FROM atoms WHERE id=?", (atom_id,)))

    def list_atoms(
        self, type: str | None = None, user: str | None = None, limit: int | None = None
    ) -> list[dict[str, Any]]:
        """Atom records (newest first), optionally filtered."""
        sql = f"SELECT {self._COLS} FROM atoms"
        where, params = [], []
        if type:
            where.append("type=?")
            params.append(type)
        if user:
            where.append("user=?")
            params.append(user)
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY created_at DESC"
        if limit:
            sql += f" LIMIT {int(limit)}"
        return [self._row_to_record(r) for r in self.index.query(sql, params)]

    def lineage(self, atom_id: str, down: bool = False) -> dict[str, Any]:
        """Ancestry tree (or descendants with ``down``) as nested dicts."""
        self.get_atom(atom_id)
        if down:
            sql = """WITH RECURSIVE r(node, other, role) AS (
                SELECT parent, child, role FROM edges WHERE parent=?
                UNION SELECT e.parent, e.child, e.role FROM edges e JOIN r ON e.parent=r.other)
                SELECT node, other, role FROM r"""
        else:
            sql = """WITH RECURSIVE r(node, other, role) AS (
                SELECT child, parent, role FROM edges WHERE child=?
                UNION SELECT e.child, e.parent, e.role FROM edges e JOIN r ON e.child=r.other)
                SELECT node, other, role FROM r"""
        links: dict[str, list[tuple[str, str]]] = {}
        for node, other, role in self.index.query(sql, (atom_id,)):
            links.setdefault(node, []).append((role, other))
        infos = {}
        ids = {atom_id} | {o for v in links.values() for _, o in v}
        for chunk_start in range(0, len(ids), 500):
            chunk = list(ids)[chunk_start : chunk_start + 500]
            q = f"SELECT id, type, created_at, provenance FROM atoms WHERE id IN ({','.join('?' * len(chunk))})"
            for aid, typ, created, prov in self.index.query(q, chunk):
                p = json.loads(prov)
                infos[aid] = {
                    "type": typ,
                    "created_at": created,
                    "workflow": p.get("workflow"),
                    "step": p.get("step"),
                    "run_id": p.get("run_id"),
                }

        key = "children" if down else "parents"

        def node_dict(node: str, role: str | None) -> dict[str, Any]:
            return {"id": node, "role": role, **infos.get(node, {"missing": True}), key: []}

        # Iterative depth-first expansion (deep chains must not hit the recursion limit);
        # an atom appears once per path, never inside its own ancestry.
        root = node_dict(atom_id, None)
        stack: list[tuple[dict[str, Any], frozenset[str]]] = [(root, frozenset({atom_id}))]
        while stack:
            parent, seen = stack.pop()
            for role, other in sorted(links.get(parent["id"], [])):
                if other in seen:
                    continue
                child = node_dict(other, role)
                parent[key].append(child)
                stack.append((child, seen | {other}))
        return root

    # -- kv for backends --------------------------------------------------------
    def kv_get(self, namespace: str, key: str) -> Any:
        """A JSON value a backend recorded (e.g. an uploaded file id), or ``None``."""
        rows = self.index.query(
            "SELECT value FROM kv WHERE namespace=? AND key=?", (namespace, key)
        )
        return json.loads(rows[0][0]) if rows else None

    def kv_set(self, namespace: str, key: str, value: Any) -> None:
        """Record a JSON value (never secrets)."""
        with self.index.write() as c:
            c.execute(
                "INSERT OR REPLACE INTO kv(namespace, key, value, updated_at) VALUES(?,?,?,?)",
                (namespace, key, canonical_json(value), utcnow()),
            )

    def kv_delete(self, namespace: str, key: str) -> None:
        with self.index.write() as c:
            c.execute("DELETE FROM kv WHERE namespace=? AND key=?", (namespace, key))

    # -- maintenance -------------------------------------------------------------
    def stats(self) -> dict[str, Any]:
        """Atom counts and bytes per type, plus object and cache totals."""
        per_type = {
            t: {"count": n, "bytes": b or 0}
            for t, n, b in self.index.query(
                "SELECT type, COUNT(*), SUM(size_bytes) FROM atoms GROUP BY type ORDER BY type"
            )
        }
        obj_bytes = 0
        obj_count = 0
        for d in self.objects_dir.glob("*/*"):
            obj_count += 1
            for f in d.rglob("*"):
                if f.is_file():
                    obj_bytes += f.stat().st_size
        (cache_n,) = self.index.query("SELECT COUNT(*) FROM step_cache")[0]
        (runs_n,) = self.index.query("SELECT COUNT(*) FROM runs")[0]
        return {
            "store": str(self.root),
            "atoms": per_type,
            "total_atoms": sum(v["count"] for v in per_type.values()),
            "objects": obj_count,
            "object_bytes": obj_bytes,
            "cache_entries": cache_n,
            "runs": runs_n,
        }

    def verify(self) -> list[str]:
        """Re-hash every object and check references; return a list of problems."""
        problems: list[str] = []
        referenced: dict[str, list[str]] = {}
        for aid, ch in self.index.query("SELECT id, content_hash FROM atoms"):
            if ch:
                referenced.setdefault(ch, []).append(aid)
        for ch, aids in sorted(referenced.items()):
            d = self.data_path(ch)
            if not d.is_dir():
                problems.append(f"missing object {ch} for atom(s) {', '.join(aids)}")
                continue
            actual, _size, _ = hash_tree(d)
            if actual != ch:
                problems.append(
                    f"corrupted object {ch} (re-hashed to {actual[:16]}...) used by {', '.join(aids)}"
                )
        ids = {r[0] for r in self.index.query("SELECT id FROM atoms")}
        for child, parent, role in self.index.query("SELECT child, parent, role FROM edges"):
            if child not in ids:
                problems.append(f"dangling edge: child {child} is not in the store")
            if parent not in ids:
                problems.append(
                    f"dangling reference: {child} was made from {role}={parent}, which is not in the store"
                )
        for key, step, outputs in self.index.query("SELECT key, step, outputs FROM step_cache"):
            for name, aid in json.loads(outputs).items():
                if aid not in ids:
                    problems.append(
                        f"dangling cache entry {key[:12]} ({step}): output {name}={aid} missing"
                    )
        return problems

    def gc(self, dry_run: bool = False, grace_s: float = GC_GRACE_S) -> dict[str, Any]:
        """Remove objects no atom references and stale staging dirs; report bytes.

        Objects younger than ``grace_s`` are kept: a writer renames its object into
        place before its index transaction, so a fresh unreferenced object may be an
        atom being written right now by another process.
        """
        import time

        now = time.time()
        referenced = {
            r[0] for r in self.index.query("SELECT DISTINCT content_hash FROM atoms") if r[0]
        }
        removed, freed, recent = [], 0, []
        for d in self.objects_dir.glob("*/*"):
            if d.name in referenced or not d.is_dir():
                continue
            try:
                if now - d.stat().st_mtime < grace_s:
                    recent.append(d.name)
                    continue
            except OSError:
                continue
            size = sum(f.stat().st_size for f in d.rglob("*") if f.is_file())
            removed.append(d.name)
            freed += size
            if not dry_run:
                _rmtree_writable(d)

        stale = []
        for d in self.tmp_dir.iterdir():
            try:
                age = now - d.stat().st_mtime
            except OSError:
                continue
            if age > 24 * 3600:
                stale.append(d.name)
                if not dry_run:
                    _rmtree_writable(d)
        return {
            "removed_objects": removed,
            "freed_bytes": freed,
            "stale_tmp": stale,
            "kept_recent_objects": recent,
            "dry_run": dry_run,
        }


def _rmtree_writable(path: Path) -> None:
    def onerror(func: Any, p: str, _exc: Any) -> None:
        os.chmod(p, stat.S_IWUSR | stat.S_IRUSR | stat.S_IXUSR)
        func(p)

    if path.is_dir():
        for dp, dirs, _files in os.walk(path):
            for d in dirs:
                os.chmod(os.path.join(dp, d), 0o755)
        os.chmod(path, 0o755)
        if sys.version_info >= (3, 12):
            shutil.rmtree(path, onexc=onerror)
        else:  # Python 3.11 only knows onerror (same handler: the third argument is unused)
            shutil.rmtree(path, onerror=onerror)
    elif path.exists():
        path.unlink()


_VERSIONS: dict[str, str] | None = None


def _versions() -> dict[str, str]:
    global _VERSIONS
    if _VERSIONS is None:
        from motools import __version__, plugins

        v = {"motools-core": __version__}
        for dist, ver in plugins._dist_of_plugin.values():
            if dist and ver:
                v[dist] = ver
        _VERSIONS = v
    return dict(_VERSIONS)
