"""The store's SQLite index: atoms, provenance edges, step cache, runs, leases, kv.

WAL mode, one connection per thread, a generous busy timeout and a retry around write
transactions so that many processes writing one store never surface "database is
locked" to the user.
"""

from __future__ import annotations

import random
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

SCHEMA_VERSION = 1

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS atoms(
    id TEXT PRIMARY KEY,
    hash TEXT NOT NULL UNIQUE,
    type TEXT NOT NULL,
    user TEXT NOT NULL,
    content_hash TEXT,
    size_bytes INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    metadata TEXT NOT NULL,
    provenance TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS atoms_type_user ON atoms(type, user);
CREATE INDEX IF NOT EXISTS atoms_content ON atoms(content_hash);
CREATE TABLE IF NOT EXISTS edges(
    child TEXT NOT NULL,
    parent TEXT NOT NULL,
    role TEXT NOT NULL,
    PRIMARY KEY(child, role, parent)
);
CREATE INDEX IF NOT EXISTS edges_parent ON edges(parent);
CREATE TABLE IF NOT EXISTS step_cache(
    key TEXT PRIMARY KEY,
    step TEXT NOT NULL,
    workflow TEXT,
    key_parts TEXT NOT NULL,
    outputs TEXT NOT NULL,
    run_id TEXT,
    created_at TEXT NOT NULL,
    hits INTEGER NOT NULL DEFAULT 0,
    last_hit_at TEXT,
    extra TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX IF NOT EXISTS step_cache_step ON step_cache(step, created_at);
CREATE TABLE IF NOT EXISTS runs(
    run_id TEXT PRIMARY KEY,
    workflow TEXT NOT NULL,
    user TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    state TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS runs_created ON runs(created_at);
CREATE TABLE IF NOT EXISTS leases(
    key TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    host TEXT NOT NULL,
    pid INTEGER NOT NULL,
    expires_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS run_steps(
    run_id TEXT NOT NULL,
    idx INTEGER NOT NULL,
    state TEXT NOT NULL,
    PRIMARY KEY(run_id, idx)
);
CREATE TABLE IF NOT EXISTS kv(
    namespace TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY(namespace, key)
);
"""


def _is_locked(exc: sqlite3.OperationalError) -> bool:
    msg = str(exc).lower()
    return "locked" in msg or "busy" in msg


class Index:
    """Thread-safe access to one SQLite index file."""

    def __init__(self, path: Path):
        self.path = path
        self._local = threading.local()
        self._init_lock = threading.Lock()
        self._initialised = False

    def conn(self) -> sqlite3.Connection:
        """This thread's connection (created on first use)."""
        c = getattr(self._local, "conn", None)
        if c is None:
            c = sqlite3.connect(
                self.path, timeout=60.0, isolation_level=None, check_same_thread=False
            )
            c.execute("PRAGMA busy_timeout=60000")
            c.execute("PRAGMA synchronous=NORMAL")
            c.execute("PRAGMA foreign_keys=OFF")
            self._local.conn = c
            if not self._initialised:
                with self._init_lock:
                    if not self._initialised:
                        self._retry(lambda: self._create_schema(c))
                        self._initialised = True
        return c

    def _create_schema(self, c: sqlite3.Connection) -> None:
        mode = c.execute("PRAGMA journal_mode").fetchone()[0]
        if mode != "wal":
            c.execute("PRAGMA journal_mode=WAL")
        have = c.execute(
            "SELECT name FROM sqlite_master WHERE type='table' AND name='meta'"
        ).fetchone()
        if have is None:
            try:
                c.executescript(
                    "BEGIN IMMEDIATE;"
                    + SCHEMA
                    + f"INSERT OR IGNORE INTO meta(key, value) VALUES('schema_version', '{SCHEMA_VERSION}');"
                    + "COMMIT;"
                )
            except BaseException:
                if c.in_transaction:
                    c.execute("ROLLBACK")
                raise

    def _retry(self, fn: Callable[[], T], attempts: int = 50) -> T:
        delay = 0.01
        for i in range(attempts):
            try:
                return fn()
            except sqlite3.OperationalError as e:
                if not _is_locked(e) or i == attempts - 1:
                    raise
                time.sleep(delay * (1 + random.random()))
                delay = min(delay * 2, 1.0)
        raise AssertionError("unreachable")

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """A write transaction (BEGIN IMMEDIATE, retried while the database is busy)."""
        c = self.conn()
        self._retry(lambda: c.execute("BEGIN IMMEDIATE"))
        try:
            yield c
        except BaseException:
            if c.in_transaction:
                c.execute("ROLLBACK")
            raise
        else:
            self._retry(lambda: c.execute("COMMIT"))

    def query(self, sql: str, params: tuple[Any, ...] | list[Any] = ()) -> list[tuple[Any, ...]]:
        """Run a read query and fetch all rows."""
        c = self.conn()
        return self._retry(lambda: c.execute(sql, params).fetchall())

    def close(self) -> None:
        c = getattr(self._local, "conn", None)
        if c is not None:
            c.close()
            self._local.conn = None
