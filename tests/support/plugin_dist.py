"""Make test plugins discoverable by subprocesses, and run the ``motools`` CLI.

A directory holding ``<dist>.dist-info/{METADATA,entry_points.txt}`` on ``PYTHONPATH``
is an installed distribution as far as :mod:`importlib.metadata` is concerned, so the
CLI finds its ``motools`` entry points exactly like a pip-installed plugin's.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

CORE_DIST = "core-test-plugin"
CORE_ENTRY_POINTS = {
    "core_test": "tests.support.core_plugin",
    "core_test_backend": "tests.support.test_backend",
}


def make_dist(site: Path, dist: str, entry_points: dict[str, str], version: str = "0.0.1") -> Path:
    """Write a fake installed distribution ``dist`` into ``site``; return ``site``."""
    info = site / f"{dist.replace('-', '_')}-{version}.dist-info"
    info.mkdir(parents=True, exist_ok=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n")
    lines = ["[motools]"] + [f"{name} = {target}" for name, target in entry_points.items()]
    (info / "entry_points.txt").write_text("\n".join(lines) + "\n")
    return site


def cli_env(site: Path | None = None, load: str | None = CORE_DIST, **extra: str) -> dict[str, str]:
    """The current (hermetic) environment plus ``site`` on PYTHONPATH and a plugin filter.

    ``load=None`` removes ``MOTOOLS_LOAD_PLUGINS`` so that every installed plugin loads.
    """
    env = dict(os.environ)
    paths = [str(ROOT)] + ([str(site)] if site else []) + [env.get("PYTHONPATH", "")]
    env["PYTHONPATH"] = os.pathsep.join(p for p in paths if p)
    if load is None:
        env.pop("MOTOOLS_LOAD_PLUGINS", None)
    else:
        env["MOTOOLS_LOAD_PLUGINS"] = load
    env.setdefault("COLUMNS", "200")
    env.update(extra)
    return env


@dataclass
class CliResult:
    code: int
    stdout: str
    stderr: str

    def __str__(self) -> str:
        return f"exit {self.code}\n--- stdout\n{self.stdout}\n--- stderr\n{self.stderr}"


MAIN = "from motools.cli import main; main()"


def motools_cmd(*args: str) -> list[str]:
    """argv running the ``motools`` CLI with this interpreter (its console script if present)."""
    script = Path(sys.executable).with_name("motools")
    if script.exists():
        return [str(script), *args]
    return [sys.executable, "-c", MAIN, *args]


def run_cli(
    *args: str,
    env: dict[str, str],
    input: str | None = None,
    timeout: float = 60,
    cwd: Path | None = None,
) -> CliResult:
    """Run ``motools ARGS`` in a subprocess and capture its output."""
    p = subprocess.run(
        motools_cmd(*args),
        env=env,
        input=input,
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cwd or ROOT,
    )
    return CliResult(p.returncode, p.stdout, p.stderr)
