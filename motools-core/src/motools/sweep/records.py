"""Sweep records in the store's SQLite index: a row per sweep, a row per point.

The tables are created on first use (``CREATE TABLE IF NOT EXISTS``).  A point row
holds the latest run of the point and the ids of every run it has had, so re-running a
sweep (same definition, same user, hence same sweep id) updates the same record.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from motools.errors import UserError
from motools.store import utcnow
from motools.sweep.result import PointResult, SweepResult

if TYPE_CHECKING:
    from motools.store import ContentStore

SCHEMA = """
CREATE TABLE IF NOT EXISTS sweeps(
    sweep_id TEXT PRIMARY KEY,
    name TEXT,
    workflow TEXT NOT NULL,
    user TEXT NOT NULL,
    status TEXT NOT NULL,
    n_points INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    definition TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS sweeps_updated ON sweeps(updated_at);
CREATE TABLE IF NOT EXISTS sweep_points(
    sweep_id TEXT NOT NULL,
    idx INTEGER NOT NULL,
    replicate INTEGER NOT NULL,
    params TEXT NOT NULL,
    seeds TEXT NOT NULL,
    config TEXT NOT NULL,
    run_id TEXT,
    status TEXT NOT NULL,
    error TEXT,
    outputs TEXT NOT NULL,
    duration REAL,
    cached INTEGER NOT NULL DEFAULT 0,
    runs TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY(sweep_id, idx)
);
"""

_ready: set[str] = set()


def ensure_tables(store: ContentStore) -> None:
    """Create the sweep tables in ``store`` if they are missing (once per process)."""
    key = str(store.index.path)
    if key in _ready:
        return
    with store.index.write() as c:
        for stmt in SCHEMA.split(";"):
            if stmt.strip():
                c.execute(stmt)
    _ready.add(key)


def _dumps(obj: Any) -> str:
    return json.dumps(obj, default=str)  # key order kept: it is the grid order


def _point_row(sweep_id: str, p: PointResult) -> tuple[Any, ...]:
    return (
        sweep_id,
        p.index,
        p.replicate,
        _dumps(p.params),
        _dumps(p.seeds),
        _dumps(p.config),
        p.run_id,
        p.status,
        p.error,
        _dumps(p.outputs),
        p.duration,
        int(p.cached),
        _dumps(p.runs),
        utcnow(),
    )


_POINT_COLS = "sweep_id, idx, replicate, params, seeds, config, run_id, status, error, outputs, duration, cached, runs, updated_at"


def save_sweep(store: ContentStore, sweep: SweepResult) -> None:
    """Write the sweep row and every point row (one transaction)."""
    ensure_tables(store)
    now = utcnow()
    with store.index.write() as c:
        row = c.execute(
            "SELECT created_at FROM sweeps WHERE sweep_id=?", (sweep.sweep_id,)
        ).fetchone()
        sweep.created_at = row[0] if row else (sweep.created_at or now)
        sweep.updated_at = now
        definition = {**sweep.definition, "param_names": sweep.param_names}
        c.execute(
            "INSERT OR REPLACE INTO sweeps(sweep_id, name, workflow, user, status, n_points, created_at,"
            " updated_at, definition) VALUES(?,?,?,?,?,?,?,?,?)",
            (
                sweep.sweep_id,
                sweep.name,
                sweep.workflow,
                sweep.user,
                sweep.status,
                len(sweep.points),
                sweep.created_at,
                now,
                _dumps(definition),
            ),
        )
        c.execute(
            "DELETE FROM sweep_points WHERE sweep_id=? AND idx>=?",
            (sweep.sweep_id, len(sweep.points)),
        )
        c.executemany(
            f"INSERT OR REPLACE INTO sweep_points({_POINT_COLS}) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            [_point_row(sweep.sweep_id, p) for p in sweep.points],
        )


def save_point(
    store: ContentStore, sweep_id: str, point: PointResult, sweep_status: str | None = None
) -> None:
    """Update one point row (and the sweep's status / update time)."""
    ensure_tables(store)
    now = utcnow()
    with store.index.write() as c:
        c.execute(
            f"INSERT OR REPLACE INTO sweep_points({_POINT_COLS}) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            _point_row(sweep_id, point),
        )
        if sweep_status is None:
            c.execute("UPDATE sweeps SET updated_at=? WHERE sweep_id=?", (now, sweep_id))
        else:
            c.execute(
                "UPDATE sweeps SET updated_at=?, status=? WHERE sweep_id=?",
                (now, sweep_status, sweep_id),
            )


def previous_runs(store: ContentStore, sweep_id: str) -> dict[int, list[str]]:
    """Run ids each point of a recorded sweep has had (empty for a new sweep)."""
    ensure_tables(store)
    rows = store.index.query("SELECT idx, runs FROM sweep_points WHERE sweep_id=?", (sweep_id,))
    return {int(i): json.loads(r) for i, r in rows}


def resolve_sweep_id(store: ContentStore, sweep_id: str) -> str:
    """The full id for ``sweep_id`` or a unique prefix of one; a clear error otherwise."""
    ensure_tables(store)
    if store.index.query("SELECT 1 FROM sweeps WHERE sweep_id=?", (sweep_id,)):
        return sweep_id
    rows = store.index.query(
        "SELECT sweep_id FROM sweeps WHERE sweep_id LIKE ?", (sweep_id.replace("%", "") + "%",)
    )
    if len(rows) == 1:
        return str(rows[0][0])
    if len(rows) > 1:
        raise UserError(f"sweep id {sweep_id!r} is ambiguous: {sorted(r[0] for r in rows)}")
    raise UserError(f"no sweep {sweep_id!r} in the store at {store.root} (see 'motools sweep ls')")


def load_sweep(store: ContentStore, sweep_id: str) -> SweepResult:
    """A recorded sweep with its points (latest run of each)."""
    sid = resolve_sweep_id(store, sweep_id)
    head = store.index.query(
        "SELECT sweep_id, name, workflow, user, status, created_at, updated_at, definition FROM sweeps WHERE sweep_id=?",
        (sid,),
    )[0]
    definition = json.loads(head[7])
    rows = store.index.query(
        f"SELECT {_POINT_COLS} FROM sweep_points WHERE sweep_id=? ORDER BY idx", (sid,)
    )
    points = [
        PointResult(
            index=r[1],
            replicate=r[2],
            params=json.loads(r[3]),
            seeds=json.loads(r[4]),
            config=json.loads(r[5]),
            run_id=r[6],
            status=r[7],
            error=r[8],
            outputs=json.loads(r[9]),
            duration=r[10],
            cached=bool(r[11]),
            runs=json.loads(r[12]),
        )
        for r in rows
    ]
    return SweepResult(
        sweep_id=sid,
        name=head[1],
        workflow=head[2],
        user=head[3],
        status=head[4],
        created_at=head[5],
        updated_at=head[6],
        points=points,
        param_names=definition.pop("param_names", {}),
        source=definition.get("source"),
        definition=definition,
    )


def list_sweeps(store: ContentStore, limit: int = 50) -> list[dict[str, Any]]:
    """Recent sweeps, newest first, with point counts per status."""
    ensure_tables(store)
    rows = store.index.query(
        "SELECT sweep_id, name, workflow, user, status, n_points, created_at, updated_at FROM sweeps"
        " ORDER BY updated_at DESC LIMIT ?",
        (limit,),
    )
    counts: dict[str, dict[str, int]] = {}
    if rows:
        marks = ",".join("?" * len(rows))
        for sid, status, n in store.index.query(
            f"SELECT sweep_id, status, COUNT(*) FROM sweep_points WHERE sweep_id IN ({marks}) GROUP BY sweep_id, status",
            [r[0] for r in rows],
        ):
            counts.setdefault(sid, {})[status] = n
    keys = ("sweep_id", "name", "workflow", "user", "status", "points", "created_at", "updated_at")
    return [{**dict(zip(keys, r, strict=True)), "counts": counts.get(r[0], {})} for r in rows]


def live_run_status(store: ContentStore, run_ids: list[str]) -> dict[str, dict[str, Any]]:
    """Status and current step of workflow runs, read from the engine's run records."""
    out: dict[str, dict[str, Any]] = {}
    ids = [r for r in run_ids if r]
    for i in range(0, len(ids), 500):
        chunk = ids[i : i + 500]
        marks = ",".join("?" * len(chunk))
        for rid, status in store.index.query(
            f"SELECT run_id, status FROM runs WHERE run_id IN ({marks})", chunk
        ):
            out[rid] = {"status": status, "step": None}
        for rid, state in store.index.query(
            f"SELECT run_id, state FROM run_steps WHERE run_id IN ({marks}) ORDER BY run_id, idx",
            chunk,
        ):
            st = json.loads(state)
            if st.get("status") == "running" and rid in out:
                out[rid]["step"] = st.get("name")
    return out
