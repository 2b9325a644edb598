"""Printing helpers: JSON and tables on stdout, messages on stderr."""

from __future__ import annotations

import json
import sys
from typing import Any


def print_json(data: Any) -> None:
    """Pretty JSON on stdout."""
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")


def info(msg: str) -> None:
    """A message for the user on stderr."""
    print(msg, file=sys.stderr)


def table(rows: list[dict[str, Any]], columns: list[str], title: str | None = None) -> None:
    """A rich table on stdout (plain when not a terminal); a note on stderr when empty."""
    if not rows:
        print(f"(nothing to show{': ' + title if title else ''})", file=sys.stderr)
        return
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    # cells are data, not markup: "[estimated cost $0.01]" must print as written
    t = Table(title=escape(title) if title else None, show_lines=False, header_style="bold")
    for c in columns:
        t.add_column(c, overflow="fold")
    for r in rows:
        t.add_row(*["" if r.get(c) is None else escape(str(r.get(c))) for c in columns])
    Console(soft_wrap=False, width=None if sys.stdout.isatty() else 200).print(t)
