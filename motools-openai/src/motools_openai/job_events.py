"""Fine-tuning job events, fetched incrementally and kept in order per job.

The wait step shows ``JobStatus.events[seen:]`` after each poll, so the list for a job
only ever grows.  The endpoint lists events newest first with an ``after`` cursor; we
page back only until the newest event we already have (the first look at a job fetches
one page, so re-attaching to a long job does not download its whole history).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

PAGE = 100
MAX_PAGES = 5


@dataclass
class _JobLog:
    last_id: str | None = None
    messages: list[str] = field(default_factory=list)
    progress: dict[str, Any] = field(default_factory=dict)
    unsupported: bool = False


def _format(event: Any) -> str:
    level = getattr(event, "level", "info") or "info"
    msg = str(getattr(event, "message", "") or "")
    return msg if level == "info" else f"{level}: {msg}"


def _metrics(event: Any) -> dict[str, Any]:
    data = getattr(event, "data", None)
    if getattr(event, "type", None) != "metrics" or not isinstance(data, dict):
        return {}
    out: dict[str, Any] = {}
    for src, dst in (("step", "step"), ("total_steps", "total_steps")):
        if isinstance(data.get(src), int | float):
            out[dst] = data[src]
    loss = data.get("train_loss")
    if isinstance(loss, int | float):
        out["loss"] = round(float(loss), 4)
    return out


class EventTracker:
    """Per-job event logs of this process (thread-safe)."""

    def __init__(self) -> None:
        self._logs: dict[str, _JobLog] = {}
        self._lock = threading.Lock()

    def update(self, client: Any, job: Any) -> tuple[list[str], dict[str, Any]]:
        """Fetch new events of ``job``; return (all messages so far, latest progress)."""
        import openai

        with self._lock:
            log = self._logs.setdefault(job.id, _JobLog())
        if not log.unsupported:
            new: list[Any] = []
            after = None
            for _ in range(MAX_PAGES if log.last_id else 1):
                try:
                    kwargs: dict[str, Any] = {"limit": PAGE}
                    if after:
                        kwargs["after"] = after
                    page = client.fine_tuning.jobs.list_events(job.id, **kwargs)
                except (openai.NotFoundError, openai.BadRequestError):
                    log.unsupported = True  # an endpoint without events: status still works
                    break
                data = list(page.data)
                stop = next((i for i, e in enumerate(data) if e.id == log.last_id), None)
                new.extend(data if stop is None else data[:stop])
                if stop is not None or not data or not getattr(page, "has_more", False):
                    break
                after = data[-1].id
            with self._lock:
                if new:
                    log.last_id = new[0].id
                for event in reversed(new):  # oldest first
                    log.messages.append(_format(event))
                    log.progress.update(_metrics(event))
        progress = dict(log.progress)
        finish = getattr(job, "estimated_finish", None)
        if isinstance(finish, int | float) and finish > 0:
            progress["eta_s"] = max(0, int(finish - time.time()))
        return list(log.messages), progress
