"""Run ``motools.cli.main`` in this process (fast; for output checks, not exit-path tests).

Plugins come from this process (the ``plugins`` fixture), the store from the usual
settings.  Tests of exit codes on crashes, signals and plugin discovery use real
subprocesses instead (:mod:`tests.support.plugin_dist`).
"""

from __future__ import annotations

import io
import sys
import warnings
from contextlib import redirect_stderr, redirect_stdout

from tests.support.plugin_dist import CliResult


def invoke(*args: str, input: str = "") -> CliResult:
    """``motools ARGS`` in-process; returns exit code, stdout and stderr."""
    from motools import cli, settings

    # main() adds the commands to the module's app on every call: start from a bare app
    cli.app.registered_commands.clear()
    cli.app.registered_groups.clear()
    out, err = io.StringIO(), io.StringIO()
    old_stdin, old_format = sys.stdin, warnings.formatwarning
    old_store = settings._store_override
    sys.stdin = io.StringIO(input)
    code: int | str | None = 0
    try:
        with warnings.catch_warnings(), redirect_stdout(out), redirect_stderr(err):
            try:
                cli.main(list(args))
            except SystemExit as e:
                code = e.code
    finally:
        sys.stdin = old_stdin
        warnings.formatwarning = old_format
        settings._store_override = old_store  # a --store option must not outlive the call
    return CliResult(code if isinstance(code, int) else 1, out.getvalue(), err.getvalue())
