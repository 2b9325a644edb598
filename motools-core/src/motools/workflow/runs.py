"""Persisting runs: a header row per run and one row per step, updated per transition."""

from __future__ import annotations

import json
from dataclasses import fields
from typing import TYPE_CHECKING, Any

from motools.errors import UserError
from motools.store.content_store import utcnow
from motools.store.leases import HOST, _pid_alive
from motools.workflow.state import StepState, WorkflowState

if TYPE_CHECKING:
    from motools.store import ContentStore


def save_run(store: ContentStore, state: WorkflowState, steps: list[int] | None = None) -> None:
    """Write the run header and every step row, or only the given step rows.

    With ``steps`` the header is not rewritten (only its status and time), so a step
    transition costs the same whatever the size of the workflow.
    """
    if steps is not None:
        with store.index.write() as c:
            c.execute(
                "UPDATE runs SET status=?, updated_at=? WHERE run_id=?",
                (state.status, utcnow(), state.run_id),
            )
            c.executemany(
                "INSERT OR REPLACE INTO run_steps(run_id, idx, state) VALUES(?,?,?)",
                [
                    (state.run_id, i, json.dumps(state.step_states[i].to_dict(), default=str))
                    for i in steps
                ],
            )
        return
    idxs = range(len(state.step_states))
    with store.index.write() as c:
        c.execute(
            "INSERT OR REPLACE INTO runs(run_id, workflow, user, status, created_at, updated_at, state)"
            " VALUES(?,?,?,?,?,?,?)",
            (
                state.run_id,
                state.workflow_name,
                state.user,
                state.status,
                state.created_at or utcnow(),
                utcnow(),
                state.header_json(),
            ),
        )
        c.executemany(
            "INSERT OR REPLACE INTO run_steps(run_id, idx, state) VALUES(?,?,?)",
            [
                (state.run_id, i, json.dumps(state.step_states[i].to_dict(), default=str))
                for i in idxs
            ],
        )


def load_run(store: ContentStore, run_id: str) -> WorkflowState:
    """The persisted state of a run; a clear error for an unknown id."""
    rows = store.index.query("SELECT state FROM runs WHERE run_id=?", (run_id,))
    if not rows:
        rows = store.index.query(
            "SELECT state FROM runs WHERE run_id LIKE ? ORDER BY created_at DESC", (run_id + "%",)
        )
        if len(rows) != 1:
            raise UserError(
                f"no run {run_id!r} in the store at {store.root} (see 'motools workflow runs')"
            )
    header = json.loads(rows[0][0])
    steps = store.index.query(
        "SELECT state FROM run_steps WHERE run_id=? ORDER BY idx", (header["run_id"],)
    )
    header["step_states"] = [json.loads(s[0]) for s in steps]
    header["status"] = _live_status(
        store.index.query("SELECT status FROM runs WHERE run_id=?", (header["run_id"],))[0][0],
        header,
    )
    if header["status"] == "interrupted" and not header.get("error"):
        header["error"] = f"the process running it (pid {header.get('pid')}) is gone"
    header = {k: v for k, v in header.items() if k in _STATE_FIELDS}
    st = WorkflowState.from_dict(header)
    st.step_states = [s if isinstance(s, StepState) else StepState(**s) for s in st.step_states]
    return st


def list_runs(store: ContentStore, limit: int = 50) -> list[dict[str, Any]]:
    """Recent runs, newest first: id, workflow, user, status, created/updated."""
    rows = store.index.query(
        "SELECT run_id, workflow, user, status, created_at, updated_at, state FROM runs"
        " ORDER BY created_at DESC LIMIT ?",
        (limit,),
    )
    keys = ("run_id", "workflow", "user", "status", "created_at", "updated_at")
    out = []
    for r in rows:
        d = dict(zip(keys, r[:6], strict=True))
        d["status"] = _live_status(d["status"], json.loads(r[6]))
        out.append(d)
    return out


_STATE_FIELDS = {f.name for f in fields(WorkflowState)}


def _live_status(status: str, header: dict[str, Any]) -> str:
    """A run recorded as running whose process on this host is gone was interrupted.

    (SIGKILL, an out-of-memory kill or a power cut leave no chance to record it.)
    """
    if status != "running":
        return status
    pid, host = header.get("pid"), header.get("host")
    if pid and host == HOST and not _pid_alive(int(pid)):
        return "interrupted"
    return status
