"""Leases in the store's index: one process computes a cache key, the others wait.

A lease records owner, host, pid and an expiry renewed by a heartbeat.  It is taken
over when it expired (the holder stopped renewing) or when its holder ran on this host
and that process no longer exists (crash, SIGKILL).
"""

from __future__ import annotations

import asyncio
import os
import socket
import time
import uuid
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from motools.store.content_store import ContentStore

HOST = socket.gethostname()
LEASE_TTL = 60.0


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def try_acquire(store: ContentStore, key: str, owner: str, ttl: float = LEASE_TTL) -> bool:
    """Take the lease on ``key`` if it is free, expired or held by a dead local process."""
    now = time.time()
    with store.index.write() as c:
        row = c.execute(
            "SELECT owner, host, pid, expires_at FROM leases WHERE key=?", (key,)
        ).fetchone()
        if row is not None:
            holder, host, pid, expires = row
            stale = expires < now or (host == HOST and not _pid_alive(pid))
            if holder != owner and not stale:
                return False
        c.execute(
            "INSERT OR REPLACE INTO leases(key, owner, host, pid, expires_at) VALUES(?,?,?,?,?)",
            (key, owner, HOST, os.getpid(), now + ttl),
        )
    return True


def renew(store: ContentStore, key: str, owner: str, ttl: float = LEASE_TTL) -> None:
    with store.index.write() as c:
        c.execute(
            "UPDATE leases SET expires_at=? WHERE key=? AND owner=?",
            (time.time() + ttl, key, owner),
        )


def release(store: ContentStore, key: str, owner: str) -> None:
    with store.index.write() as c:
        c.execute("DELETE FROM leases WHERE key=? AND owner=?", (key, owner))


class Lease:
    """Async context manager: wait for and hold the lease on a key, with heartbeat."""

    def __init__(self, store: ContentStore, key: str, poll: float = 0.2):
        self.store, self.key, self.poll = store, key, poll
        self.owner = uuid.uuid4().hex
        self.waited = False
        self._hb: asyncio.Task[None] | None = None

    async def acquire(self) -> None:
        while not await asyncio.to_thread(try_acquire, self.store, self.key, self.owner):
            self.waited = True
            await asyncio.sleep(self.poll)
        self._hb = asyncio.create_task(self._heartbeat())

    async def _heartbeat(self) -> None:
        while True:
            await asyncio.sleep(LEASE_TTL / 3)
            await asyncio.to_thread(renew, self.store, self.key, self.owner)

    async def release(self) -> None:
        if self._hb is not None:
            self._hb.cancel()
        await asyncio.to_thread(release, self.store, self.key, self.owner)

    async def __aenter__(self) -> Lease:
        await self.acquire()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.release()
