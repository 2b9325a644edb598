"""Throw-away plugin packages written to a temp dir: good, broken and misspelt ones."""

from __future__ import annotations

import uuid
from pathlib import Path

from tests.support.plugin_dist import make_dist

GOOD = """
from motools.hookspecs import hookimpl
from motools.specs import WorkflowSpec


@hookimpl
def register_workflows(register):
    register(WorkflowSpec(name="{workflow}", impl="nowhere:nothing", description="fake"))
"""

BROKEN = 'raise RuntimeError("kaboom while importing")\n'

MISSPELT = """
from motools.hookspecs import hookimpl


@hookimpl
def register_workflow(register):
    pass
"""


def install_fake_plugin(site: Path, dist: str, modules: dict[str, str]) -> dict[str, str]:
    """Write ``{entry point name: module source}`` as modules plus a dist-info into ``site``.

    Module names are made unique (tests must not share ``sys.modules`` entries); returns
    ``{entry point name: module name}``.
    """
    names = {}
    for ep_name, source in modules.items():
        mod = f"fake_{ep_name}_{uuid.uuid4().hex[:8]}"
        (site / f"{mod}.py").write_text(source)
        names[ep_name] = mod
    make_dist(site, dist, names)
    return names
