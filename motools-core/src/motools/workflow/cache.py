"""The step cache: content-addressed keys, verified hits, explanations of misses.

Key = sha256 of canonical JSON of: step identity (function qualified name + version),
the step's (redacted) config, the hashes of its input atoms by name, and any extra
identity the step declares (e.g. a backend endpoint).  Entries live in the store's
SQLite index as JSON and are shared by every workflow and user of the store.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from motools.store.content_store import canonical_json, utcnow

if TYPE_CHECKING:
    from motools.store import ContentStore


@dataclass
class CacheEntry:
    key: str
    step: str
    workflow: str | None
    key_parts: dict[str, Any]
    outputs: dict[str, str]
    run_id: str | None
    created_at: str
    hits: int
    last_hit_at: str | None
    extra: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def compute_key(
    identity: str,
    config: Any,
    inputs: dict[str, str],
    extra: dict[str, Any] | None = None,
    outputs: dict[str, str] | None = None,
) -> tuple[str, dict[str, Any]]:
    """Return (key, key parts). ``inputs`` maps input name -> atom hash.

    ``outputs`` (output name -> atom type) belongs in the key: two steps running the same
    function on the same inputs but declaring other output names must not share an entry.
    """
    parts = {
        "step": identity,
        "config": config,
        "inputs": dict(sorted(inputs.items())),
        "extra": extra or {},
    }
    if outputs is not None:
        parts["outputs"] = dict(sorted(outputs.items()))
    return hashlib.sha256(canonical_json(parts).encode()).hexdigest(), parts


_COLS = "key, step, workflow, key_parts, outputs, run_id, created_at, hits, last_hit_at, extra"


def _entry(row: tuple[Any, ...]) -> CacheEntry:
    return CacheEntry(
        key=row[0],
        step=row[1],
        workflow=row[2],
        key_parts=json.loads(row[3]),
        outputs=json.loads(row[4]),
        run_id=row[5],
        created_at=row[6],
        hits=row[7],
        last_hit_at=row[8],
        extra=json.loads(row[9] or "{}"),
    )


class StepCache:
    """Cache entries of one store."""

    def __init__(self, store: ContentStore):
        self.store = store

    def get(self, key: str) -> CacheEntry | None:
        rows = self.store.index.query(f"SELECT {_COLS} FROM step_cache WHERE key=?", (key,))
        return _entry(rows[0]) if rows else None

    def lookup(self, key: str) -> CacheEntry | None:
        """A verified hit (every output atom present with its data) or ``None``."""
        entry = self.get(key)
        if entry is None:
            return None
        for aid in entry.outputs.values():
            rows = self.store.index.query("SELECT content_hash FROM atoms WHERE id=?", (aid,))
            if not rows:
                return None
            ch = rows[0][0]
            if ch and not self.store.data_path(ch).is_dir():
                return None
        return entry

    def record_hit(self, key: str) -> None:
        with self.store.index.write() as c:
            c.execute(
                "UPDATE step_cache SET hits=hits+1, last_hit_at=? WHERE key=?", (utcnow(), key)
            )

    def put(
        self,
        key: str,
        step: str,
        workflow: str | None,
        key_parts: dict[str, Any],
        outputs: dict[str, str],
        run_id: str | None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        with self.store.index.write() as c:
            c.execute(
                f"INSERT OR REPLACE INTO step_cache({_COLS}) VALUES(?,?,?,?,?,?,?,?,?,?)",
                (
                    key,
                    step,
                    workflow,
                    canonical_json(key_parts),
                    canonical_json(outputs),
                    run_id,
                    utcnow(),
                    0,
                    None,
                    canonical_json(extra or {}),
                ),
            )

    def entries(self, step: str | None = None) -> list[CacheEntry]:
        sql = f"SELECT {_COLS} FROM step_cache"
        params: tuple[Any, ...] = ()
        if step:
            sql += " WHERE step=?"
            params = (step,)
        sql += " ORDER BY created_at DESC"
        return [_entry(r) for r in self.store.index.query(sql, params)]

    def remove(self, keys: list[str]) -> int:
        with self.store.index.write() as c:
            n = 0
            for k in keys:
                n += c.execute(
                    "DELETE FROM step_cache WHERE key=? OR key LIKE ?",
                    (k, k + "%") if len(k) >= 8 else (k, k),
                ).rowcount
        return n

    def invalidate_producing(self, atom_id: str) -> int:
        """Remove every entry that has ``atom_id`` among its outputs (e.g. a dead job)."""
        victims = [e.key for e in self.entries() if atom_id in e.outputs.values()]
        return self.remove(victims) if victims else 0

    def closest(self, identity_prefix: str) -> CacheEntry | None:
        """Most recent entry for the same step function (any version)."""
        rows = self.store.index.query(
            f"SELECT {_COLS} FROM step_cache WHERE step=? ORDER BY created_at DESC LIMIT 1",
            (identity_prefix,),
        )
        return _entry(rows[0]) if rows else None


def explain_miss(parts: dict[str, Any], previous: CacheEntry | None) -> str:
    """Why a key missed, relative to the closest previous entry of the same step."""
    if previous is None:
        return "never run before"
    old = previous.key_parts
    reasons = []
    if old.get("step") != parts.get("step"):
        old_fn, _, old_v = str(old.get("step", "?")).rpartition("@")
        new_fn, _, new_v = str(parts.get("step", "?")).rpartition("@")
        if old_v != new_v:
            reasons.append(f"step version changed ({old_v} -> {new_v})")
        else:
            reasons.append(f"step function changed ({old_fn} -> {new_fn})")
    changed = _diff(old.get("config"), parts.get("config"), "")
    if changed:
        reasons.append(
            "config changed: " + ", ".join(changed[:5]) + (" ..." if len(changed) > 5 else "")
        )
    oi, ni = old.get("inputs", {}), parts.get("inputs", {})
    ch_inputs = sorted(k for k in set(oi) | set(ni) if oi.get(k) != ni.get(k))
    if ch_inputs:
        reasons.append("input atom changed: " + ", ".join(ch_inputs))
    if old.get("extra") != parts.get("extra"):
        # the step's declared identity: a backend endpoint, a base model's or a local
        # file's content, a loader's source
        keys = [c.split(" (")[0] for c in _diff(old.get("extra"), parts.get("extra"), "")]
        reasons.append("identity changed: " + ", ".join(keys) if keys else "identity changed")
    if old.get("outputs") != parts.get("outputs"):
        reasons.append("declared outputs changed")
    return "; ".join(reasons) or "cache entry missing or its outputs are gone"


def _diff(a: Any, b: Any, path: str) -> list[str]:
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for k in sorted(set(a) | set(b), key=str):
            out += _diff(a.get(k), b.get(k), f"{path}.{k}" if path else str(k))
        return out
    if a != b:
        return [f"{path} ({a!r} -> {b!r})"]
    return []
