"""Live progress of a run on stderr, fed by the engine's events."""

from __future__ import annotations

import sys
import time
from typing import Any


class ProgressPrinter:
    """Prints one line per step transition and progress message (stderr)."""

    def __init__(self, quiet: bool = False):
        self.quiet = quiet
        self.t0 = time.monotonic()
        from rich.console import Console

        self.console = Console(stderr=True, highlight=False)

    def __call__(self, event: dict[str, Any]) -> None:
        if self.quiet:
            return
        kind = event.get("event")
        el = f"[dim]{time.monotonic() - self.t0:7.1f}s[/dim]"
        step = event.get("step", "")
        if kind == "run_start":
            self.console.print(
                f"{el} run [bold]{event['run_id']}[/bold] of workflow {event['workflow']}"
            )
        elif kind == "step_start":
            self.console.print(f"{el} [cyan]▶[/cyan] {step}: running")
        elif kind == "progress":
            self.console.print(f"{el}   {step}: ", end="")
            self.console.print(str(event.get("message", "")), markup=False)
        elif kind == "step_end":
            status = event.get("status")
            info = event.get("info") or {}
            extra = ""
            if status == "cached":
                cost = info.get("estimated_cost_usd")
                extra = (
                    " (cache hit"
                    + (f", saved ≈ ${cost:.2f}" if isinstance(cost, int | float) and cost else "")
                    + ")"
                )
            elif status == "succeeded" and event.get("duration") is not None:
                extra = f" in {event['duration']:.1f}s"
                cost = info.get("estimated_cost_usd")
                if isinstance(cost, int | float) and cost:
                    extra += f" (estimated cost ${cost:.2f})"
            elif status == "failed":
                extra = f": {event.get('error')}"
            color = {"cached": "green", "succeeded": "green", "failed": "red"}.get(
                status or "", "white"
            )
            self.console.print(f"{el} [{color}]■[/{color}] {step}: {status}", end="")
            self.console.print(extra, markup=False)
        sys.stderr.flush()
