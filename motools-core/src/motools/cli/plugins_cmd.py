"""``motools plugins``."""

from __future__ import annotations

from typing import Annotated

import typer


def plugins(
    all_: Annotated[
        bool, typer.Option("--all", help="Include motools-core's built-in plugins.")
    ] = False,
    json_: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List installed plugins: name, distribution, version and the hooks each implements."""
    from motools import plugins as pl
    from motools.cli.output import print_json, table

    rows = [p.__dict__ for p in pl.list_plugins(include_builtin=all_)]
    if json_:
        print_json(rows)
        return
    if not rows:
        typer.echo("No plugins installed (use --all to include built-ins).", err=True)
        return
    table(
        [{**r, "hooks": ", ".join(r["hooks"])} for r in rows],
        ["name", "distribution", "version", "hooks"],
    )
