"""``motools zoo``: list datasets and tasks, import a dataset file obtained elsewhere.

Building the app is cheap: every command imports what it needs when it runs.
"""

from __future__ import annotations

import json
from typing import Any

import typer


def _table(rows: list[list[str]], header: list[str]) -> str:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = [
        "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
        for r in [header, *rows]
    ]
    return "\n".join(lines)


def datasets_command(as_json: bool = typer.Option(False, "--json", help="print JSON")) -> None:
    """List curated datasets from every installed plugin (name, licence, pinned source)."""
    from dataclasses import asdict

    from motools import plugins

    specs = sorted(plugins.datasets().values(), key=lambda s: s.name)
    if as_json:
        typer.echo(json.dumps([asdict(s) for s in specs], indent=2))
        return
    if not specs:
        typer.echo("no datasets registered")
        return
    typer.echo(
        _table(
            [[s.name, s.plugin or "", s.description] for s in specs],
            ["NAME", "PLUGIN", "DESCRIPTION"],
        )
    )
    typer.echo("\nloader, citation, licence and pinned source: motools zoo datasets --json")


def tasks_command(as_json: bool = typer.Option(False, "--json", help="print JSON")) -> None:
    """List the zoo's Inspect tasks (registry name, what they measure)."""
    from mozoo.catalog import TASKS

    tasks = sorted(TASKS.values(), key=lambda t: t.name)
    if as_json:
        out: list[dict[str, Any]] = [
            {
                "name": t.name,
                "registry_name": t.registry_name,
                "ref": t.ref,
                "description": t.description,
                "metric": t.metric,
                "judge": t.judge,
            }
            for t in tasks
        ]
        typer.echo(json.dumps(out, indent=2))
        return
    typer.echo(
        _table(
            [[t.registry_name, t.judge, t.description] for t in tasks],
            ["TASK", "JUDGE", "DESCRIPTION"],
        )
    )
    typer.echo(
        "\nrun one: inspect eval mozoo/hello_world --model <model>; details: motools zoo tasks --json"
    )


def import_command(
    name: str = typer.Argument(..., help="dataset name, e.g. insecure_code"),
    file: str = typer.Argument(..., help="the file, downloaded elsewhere"),
    variant: str | None = typer.Option(None, help="variant (split) for datasets that have several"),
    revision: str | None = typer.Option(
        None, help="revision the file comes from (realistic_reward_hacks only)"
    ),
    cache_dir: str = typer.Option(
        ".motools/datasets", help="dataset cache directory (the loaders' cache_dir)"
    ),
    force: bool = typer.Option(False, help="replace a cached file that differs"),
) -> None:
    """Place a dataset file obtained elsewhere into the cache, verifying its checksum.

    Errors are :class:`motools.errors.UserError` (the CLI prints them and exits 2).
    """
    from motools.errors import UserError
    from mozoo.catalog import rrh_file
    from mozoo.datasets.loading import info_of
    from mozoo.datasets.remote import import_file

    info = info_of(name)
    spec = None
    if revision is not None:
        if name != "realistic_reward_hacks":
            raise UserError(
                f"--revision: dataset {name!r} is pinned to one revision; omit --revision"
            )
        spec = rrh_file(variant or info.default_variant, revision)
    cached = import_file(info, file, cache_dir, variant, force, spec)
    typer.echo(
        f"imported {name} into {cached.path} (sha256 {cached.sha256}, {cached.record['size']} bytes)"
    )


def zoo_app() -> typer.Typer:
    """The ``motools zoo`` sub-application."""
    app = typer.Typer(no_args_is_help=True, help="The model-organism zoo: datasets and tasks.")
    app.command("datasets")(datasets_command)
    app.command("tasks")(tasks_command)
    app.command("import")(import_command)
    return app
