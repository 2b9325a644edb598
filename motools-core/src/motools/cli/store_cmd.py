"""``motools store``: stats, verify, gc."""

from __future__ import annotations

from typing import Annotated

import typer

store_app = typer.Typer(help="Inspect and maintain the store.", no_args_is_help=True)
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON on stdout.")]


@store_app.command("stats")
def stats(json_: JsonOpt = False) -> None:
    """Atom counts and bytes per type."""
    from motools.cli.atom_cmd import _size
    from motools.cli.output import print_json, table
    from motools.store import get_store

    s = get_store().stats()
    if json_:
        print_json(s)
        return
    rows = [
        {"type": t, "atoms": v["count"], "size": _size(v["bytes"])} for t, v in s["atoms"].items()
    ]
    table(rows, ["type", "atoms", "size"], title=f"store {s['store']}")
    typer.echo(
        f"{s['total_atoms']} atoms, {s['objects']} objects ({_size(s['object_bytes'])}), {s['cache_entries']} cache entries, {s['runs']} runs"
    )


@store_app.command("verify")
def verify(json_: JsonOpt = False) -> None:
    """Re-hash every object and check references; exit 1 on corruption or dangling references."""
    from motools.cli.output import print_json
    from motools.store import get_store

    problems = get_store().verify()
    if json_:
        print_json({"ok": not problems, "problems": problems})
    elif problems:
        for p in problems:
            typer.echo(f"PROBLEM: {p}")
    else:
        typer.echo("store OK")
    if problems:
        raise typer.Exit(1)


@store_app.command("gc")
def gc(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Report what would be removed.")
    ] = False,
    json_: JsonOpt = False,
) -> None:
    """Remove objects that no atom references (and stale temp files); report bytes freed."""
    from motools.cli.atom_cmd import _size
    from motools.cli.output import print_json
    from motools.store import get_store

    r = get_store().gc(dry_run=dry_run)
    if json_:
        print_json(r)
        return
    verb = "would remove" if dry_run else "removed"
    typer.echo(
        f"{verb} {len(r['removed_objects'])} unreferenced object(s), {_size(r['freed_bytes'])}; {len(r['stale_tmp'])} stale temp dir(s)"
    )
    if r["kept_recent_objects"]:
        typer.echo(
            f"kept {len(r['kept_recent_objects'])} unreferenced object(s) younger than an hour "
            "(possibly an atom being written now)"
        )
