"""Live progress of a whole sweep on stderr: points done / running / failed, ETA.

On a terminal a rich live panel shows a bar, the counts, the ETA and what each running
point is doing; otherwise one plain line per finished point (log-friendly).
"""

from __future__ import annotations

import sys
import threading
import time
from typing import Any, TextIO


def _fmt_duration(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    seconds = max(0, int(round(seconds)))
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    return f"{h}h{m:02d}m" if h else (f"{m}m{s:02d}s" if m else f"{s}s")


class SweepProgress:
    """Event sink for :func:`motools.sweep.arun_sweep` that displays progress on ``stream``."""

    def __init__(self, stream: TextIO | None = None, live: bool | None = None):
        self.stream = stream or sys.stderr
        self.live_mode = self.stream.isatty() if live is None else live
        self.lock = threading.Lock()
        self.t0 = time.monotonic()
        self.total = 0
        self.parallel = 1
        self.names: dict[str, str] = {}
        self.replicates = 1
        self.done = self.failed = self.cached = 0
        self.work_durations: list[float] = []
        self.running: dict[int, dict[str, Any]] = {}
        self._live: Any = None

    # -- numbers -------------------------------------------------------------------
    def label(self, event: dict[str, Any]) -> str:
        from motools.sweep.definition import format_params

        text = format_params(event.get("params") or {}, self.names)
        parts = [text] if text else []
        if self.replicates > 1:
            parts.append(f"replicate={event.get('replicate')}")
        return ", ".join(parts) or "base config"

    def eta(self) -> float | None:
        """Seconds left: mean duration of points that did work x points left / parallelism."""
        left = self.total - self.done
        if left <= 0:
            return 0.0
        if not self.work_durations:
            return None
        mean = sum(self.work_durations) / len(self.work_durations)
        return mean * left / max(1, min(self.parallel, left))

    def summary(self) -> str:
        ok = self.done - self.failed
        return (
            f"{self.done}/{self.total} done ({ok} ok, {self.cached} cached, {self.failed} failed), "
            f"{len(self.running)} running, ETA {_fmt_duration(self.eta())}, elapsed {_fmt_duration(time.monotonic() - self.t0)}"
        )

    # -- events --------------------------------------------------------------------
    def __call__(self, event: dict[str, Any]) -> None:
        with self.lock:
            self._handle(event)

    def _handle(self, event: dict[str, Any]) -> None:
        kind = event.get("event")
        i = event.get("point")
        if kind == "sweep_start":
            self.total = int(event.get("points", 0))
            self.parallel = int(event.get("max_parallel", 1))
            self.names = dict(event.get("param_names") or {})
            self.replicates = int(event.get("replicates", 1))
            self._write(
                f"sweep {event.get('sweep_id')}: {self.total} point(s) of workflow {event.get('workflow')}"
            )
            if self.live_mode:
                self._start_live()
        elif kind == "point_start" and i is not None:
            self.running[i] = {
                "label": self.label(event),
                "step": "starting",
                "msg": "",
                "t0": time.monotonic(),
            }
        elif kind in ("step_start", "step_end", "progress") and i in self.running:
            r = self.running[i]
            if kind == "step_start":
                r["step"], r["msg"] = event.get("step"), "running"
            elif kind == "progress":
                r["step"], r["msg"] = event.get("step"), str(event.get("message", ""))[:80]
            else:
                r["step"], r["msg"] = event.get("step"), str(event.get("status"))
        elif kind == "point_end" and i is not None:
            self.running.pop(i, None)
            self.done += 1
            status = event.get("status")
            if status != "succeeded":
                self.failed += 1
            elif event.get("cached"):
                self.cached += 1
            elif event.get("duration") is not None:
                self.work_durations.append(float(event["duration"]))
            line = f"[{self.done}/{self.total}] point {i} ({self.label(event)}): {status}"
            if event.get("cached"):
                line += " (all cached)"
            elif event.get("duration") is not None:
                line += f" in {_fmt_duration(event['duration'])}"
            if event.get("error"):
                line += f": {event['error']}"
            if self.live_mode and self._live is not None:
                if status != "succeeded":
                    self._live.console.print(line, markup=False, highlight=False)
            else:
                self._write(line + f" | {self.summary()}")
        elif kind == "sweep_end":
            self.close()
            self._write(f"sweep {event.get('sweep_id')} {event.get('status')}: {self.summary()}")
        if self._live is not None:
            self._live.update(self._render())

    def _write(self, line: str) -> None:
        if self._live is not None:
            self._live.console.print(line, markup=False, highlight=False)
            return
        self.stream.write(line + "\n")
        self.stream.flush()

    # -- rich live panel ---------------------------------------------------------------
    def _start_live(self) -> None:
        from rich.console import Console
        from rich.live import Live

        self._live = Live(
            self._render(), console=Console(file=self.stream), refresh_per_second=4, transient=True
        )
        self._live.start()

    def _render(self) -> Any:
        from rich.console import Group
        from rich.progress_bar import ProgressBar
        from rich.text import Text

        bar = ProgressBar(total=max(1, self.total), completed=self.done, width=40)
        lines: list[Any] = [Text.assemble(("sweep ", "bold"), self.summary()), bar]
        now = time.monotonic()
        shown = sorted(self.running.items())[:12]
        for i, r in shown:
            lines.append(
                Text(
                    f"  point {i} ({r['label']}): {r['step']} {r['msg']} [{_fmt_duration(now - r['t0'])}]",
                    overflow="ellipsis",
                    no_wrap=True,
                )
            )
        if len(self.running) > len(shown):
            lines.append(Text(f"  ... and {len(self.running) - len(shown)} more running"))
        return Group(*lines)

    def close(self) -> None:
        """Stop the live display (idempotent)."""
        if self._live is not None:
            live, self._live = self._live, None
            live.stop()
