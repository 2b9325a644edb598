"""``motools cache``: ls, rm."""

from __future__ import annotations

from typing import Annotated

import typer

cache_app = typer.Typer(help="Inspect and prune the step cache.", no_args_is_help=True)


@cache_app.command("ls")
def ls(
    step: Annotated[
        str | None, typer.Option("--step", help="Only entries of this step name.")
    ] = None,
    json_: Annotated[bool, typer.Option("--json", help="Print JSON on stdout.")] = False,
) -> None:
    """List cache entries: key, step, outputs, created, hits."""
    from motools.cli.output import print_json, table
    from motools.store import get_store
    from motools.workflow.cache import StepCache

    entries = StepCache(get_store()).entries(step)
    if json_:
        print_json([{k: v for k, v in e.to_dict().items() if k != "key_parts"} for e in entries])
        return
    rows = [
        {
            "key": e.key[:16],
            "step": e.step,
            "outputs": ", ".join(f"{k}={v}" for k, v in e.outputs.items()),
            "created": e.created_at[:19],
            "hits": e.hits,
        }
        for e in entries
    ]
    table(rows, ["key", "step", "outputs", "created", "hits"])


@cache_app.command("rm")
def rm(
    keys: Annotated[
        list[str] | None,
        typer.Argument(help="Cache keys (or unique prefixes of at least 8 characters)."),
    ] = None,
    step: Annotated[
        str | None, typer.Option("--step", help="Remove every entry of this step.")
    ] = None,
    all_: Annotated[bool, typer.Option("--all", help="Remove every entry.")] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Remove cache entries (atoms are kept; the next run recomputes those steps)."""
    from motools.errors import UserError
    from motools.store import get_store
    from motools.workflow.cache import StepCache

    cache = StepCache(get_store())
    chosen = [bool(keys), bool(step), all_]
    if sum(chosen) != 1:
        raise UserError("cache rm: give cache KEYs, or --step NAME, or --all (exactly one)")
    if all_:
        targets = [e.key for e in cache.entries()]
    elif step:
        targets = [e.key for e in cache.entries(step)]
    else:
        targets = []
        for k in keys or []:
            found = [e.key for e in cache.entries() if e.key.startswith(k)]
            if not found:
                raise UserError(f"cache rm: no cache entry with key {k!r}")
            if len(found) > 1:
                raise UserError(f"cache rm: key prefix {k!r} is ambiguous ({len(found)} entries)")
            targets += found
    if not targets:
        typer.echo("nothing to remove", err=True)
        return
    if not yes:
        if not typer.confirm(
            f"Remove {len(targets)} cache entr{'y' if len(targets) == 1 else 'ies'}?", err=True
        ):
            raise typer.Exit(1)
    n = cache.remove(targets)
    typer.echo(f"removed {n} cache entr{'y' if n == 1 else 'ies'}", err=True)
