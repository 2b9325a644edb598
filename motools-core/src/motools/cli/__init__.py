"""The ``motools`` command line.

Data goes to stdout, messages and progress to stderr.  Exit codes: 0 ok, 1 runtime
failure, 2 usage or configuration error.  User mistakes never show a traceback
(``--debug`` does).  Module-level imports stay cheap: ``motools --help`` must start in
well under a second, so heavy modules are imported inside command functions.
"""

from __future__ import annotations

import os
import sys
from typing import Annotated

import typer

from motools import __version__

app = typer.Typer(
    name="motools",
    help="Build and measure model organisms: cached, typed, provenance-tracked workflows.",
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

_debug = False


def _version(value: bool) -> None:
    if value:
        typer.echo(f"motools {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    store: Annotated[
        str | None,
        typer.Option(
            "--store",
            help="Store directory (default: $MOTOOLS_HOME, the user config, or the user data dir).",
            envvar=None,
        ),
    ] = None,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks for errors.")] = False,
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Show the version and exit."
        ),
    ] = False,
) -> None:
    """motools: build and measure model organisms."""
    global _debug
    _debug = debug or os.environ.get("MOTOOLS_DEBUG", "") not in ("", "0")
    if store:
        from motools.settings import set_store_override

        set_store_override(store)


def _build() -> None:
    from motools.cli import atom_cmd, cache_cmd, plugins_cmd, store_cmd, workflow_cmd

    app.command("plugins")(plugins_cmd.plugins)
    app.add_typer(workflow_cmd.workflow_app, name="workflow")
    app.add_typer(atom_cmd.atom_app, name="atom")
    app.add_typer(store_cmd.store_app, name="store")
    app.add_typer(cache_cmd.cache_app, name="cache")
    try:
        from motools.cli import sweep_cmd
    except ImportError:
        pass
    else:
        app.add_typer(sweep_cmd.sweep_app, name="sweep")
    from motools import plugins

    # Loading errors (MOTOOLS_STRICT_PLUGINS, a misspelt hook) must reach the user; a
    # swallowed one would leave the CLI running with no plugins at all.
    plugins.load_plugins()
    plugins.add_commands(app)  # skips (and names) a plugin whose commands fail


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``motools`` script."""
    import warnings

    from motools.errors import MotoolsError

    warnings.filterwarnings("default", category=RuntimeWarning, module="motools")
    warnings.formatwarning = lambda msg, cat, *a, **k: f"{cat.__name__}: {msg}\n"  # type: ignore[assignment]
    args = sys.argv[1:] if argv is None else argv
    if not args or "--help" in args or "-h" in args:
        from motools.cli._fast_help import preload_rich_help

        preload_rich_help()
    global _debug
    _debug = "--debug" in args or os.environ.get("MOTOOLS_DEBUG", "") not in ("", "0")
    try:
        _build()
        # without standalone mode, click returns the code of typer.Exit instead of exiting
        code = app(args=args, standalone_mode=False)
    except MotoolsError as e:
        if _debug:
            import traceback

            traceback.print_exc()
        print(f"Error: {e}", file=sys.stderr)
        sys.exit(e.exit_code)
    except KeyboardInterrupt:
        print("Interrupted.", file=sys.stderr)
        sys.exit(130)
    except SystemExit:
        raise
    except typer.Exit as e:
        sys.exit(e.exit_code)
    except Exception as e:
        if isinstance(e, _click_exceptions()):  # usage errors: exit 2 with typer's message
            _show_click_error(e)
            sys.exit(e.exit_code)  # type: ignore[attr-defined]
        if isinstance(e, typer.Abort):
            print("Aborted.", file=sys.stderr)
            sys.exit(1)
        if _debug:
            raise
        print(
            f"Error: {type(e).__name__}: {e}\n(run with --debug for the traceback)", file=sys.stderr
        )
        sys.exit(1)
    if code == 130:  # typer turns KeyboardInterrupt into Exit(130)
        print("Interrupted.", file=sys.stderr)
    sys.exit(code if isinstance(code, int) else 0)


def _click_exceptions() -> tuple[type[Exception], ...]:
    """ClickException classes: typer may vendor click (``typer._click``) or use click."""
    found: list[type[Exception]] = []
    try:
        from typer._click.exceptions import ClickException as Vendored

        found.append(Vendored)
    except ImportError:
        pass
    try:
        from click.exceptions import ClickException

        found.append(ClickException)
    except ImportError:
        pass
    return tuple(found)


def _show_click_error(e: Exception) -> None:
    try:
        from typer import rich_utils

        rich_utils.rich_format_error(e)  # type: ignore[arg-type]
    except Exception:
        e.show()  # type: ignore[attr-defined]
