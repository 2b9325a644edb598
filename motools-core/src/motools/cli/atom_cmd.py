"""``motools atom``: ls, show, lineage."""

from __future__ import annotations

from typing import Annotated, Any

import typer

atom_app = typer.Typer(
    help="Inspect atoms (datasets, jobs, models, eval results).", no_args_is_help=True
)
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON on stdout.")]


@atom_app.command("ls")
def ls(
    type_: Annotated[
        str | None, typer.Option("--type", "-t", help="Only atoms of this type.")
    ] = None,
    user: Annotated[
        str | None, typer.Option("--user", "-u", help="Only atoms created by this user.")
    ] = None,
    limit: Annotated[
        int | None, typer.Option("--limit", "-n", help="At most this many (newest first).")
    ] = None,
    json_: JsonOpt = False,
) -> None:
    """List atoms, newest first."""
    from motools.atoms.ids import validate_user
    from motools.cli.output import print_json, table
    from motools.store import get_store

    store = get_store()
    if type_ is not None:
        store.atom_class(type_)  # an unknown type is an error naming the registered ones
    if user is not None:
        validate_user(user)
    recs = store.list_atoms(type=type_, user=user, limit=limit)
    if json_:
        print_json(
            [
                {k: r[k] for k in ("id", "type", "user", "created_at", "size_bytes", "metadata")}
                for r in recs
            ]
        )
        return
    rows = [
        {
            "id": r["id"],
            "type": r["type"],
            "user": r["user"],
            "created": r["created_at"][:19],
            "size": _size(r["size_bytes"]),
            "step": (r["provenance"] or {}).get("step", ""),
        }
        for r in recs
    ]
    table(rows, ["id", "type", "user", "created", "size", "step"])


def _size(n: int) -> str:
    f = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if f < 1024 or unit == "GB":
            return f"{f:.0f} {unit}" if unit == "B" else f"{f:.1f} {unit}"
        f /= 1024
    return str(n)


@atom_app.command("show")
def show(atom_id: Annotated[str, typer.Argument(help="Atom id.")], json_: JsonOpt = False) -> None:
    """Show an atom: metadata, provenance and data files."""
    from motools.cli.output import print_json
    from motools.store import get_store

    atom = get_store().get_atom(atom_id)
    data: dict[str, Any] = {
        "id": atom.id,
        "type": atom.type,
        "user": atom.user,
        "created_at": atom.created_at,
        "content_hash": atom.content_hash,
        "size_bytes": atom.size_bytes,
        "data_path": str(atom.get_data_path()) if atom.content_hash else None,
        "files": [str(p.relative_to(atom.get_data_path())) for p in atom.files()],
        "metadata": atom.metadata,
        "provenance": atom.provenance,
    }
    if json_:
        print_json(data)
        return
    import yaml

    typer.echo(yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100).rstrip())


@atom_app.command("lineage")
def lineage(
    atom_id: Annotated[str, typer.Argument(help="Atom id.")],
    down: Annotated[
        bool, typer.Option("--down", help="Show descendants instead of ancestors.")
    ] = False,
    json_: JsonOpt = False,
) -> None:
    """Print the ancestry tree of an atom (or its descendants with --down)."""
    from motools.cli.output import print_json
    from motools.store import get_store

    tree = get_store().lineage(atom_id, down=down)
    if json_:
        print_json(tree)
        return
    from rich.console import Console
    from rich.tree import Tree

    key = "children" if down else "parents"

    def label(n: dict[str, Any]) -> str:
        role = f"[dim]{n['role']}:[/dim] " if n.get("role") else ""
        where = f" [dim]({n['workflow']}/{n['step']})[/dim]" if n.get("step") else ""
        missing = " [red](missing)[/red]" if n.get("missing") else ""
        return f"{role}[bold]{n['id']}[/bold]{where}{missing}"

    def add(t: Tree, n: dict[str, Any]) -> None:
        for c in n.get(key, []):
            add(t.add(label(c)), c)

    root = Tree(label(tree))
    add(root, tree)
    Console().print(root)
