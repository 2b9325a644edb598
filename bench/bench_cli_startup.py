"""Whole-process start-up of `motools --help` and `motools workflow list`.

Target (issue 2): median <= 0.3 s over 10 runs with every workspace package installed.
Also checks that loading every plugin imports no openai / inspect_ai / torch / transformers.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

MOTOOLS = str(Path(sys.executable).parent / "motools")


def median_runtime(args: list[str], env: dict[str, str], n: int = 10) -> tuple[float, list[float]]:
    subprocess.run([MOTOOLS, *args], env=env, capture_output=True, check=True)  # warm the OS cache
    times = []
    for _ in range(n):
        t = time.perf_counter()
        subprocess.run([MOTOOLS, *args], env=env, capture_output=True, check=True)
        times.append(time.perf_counter() - t)
    return statistics.median(times), times


def main() -> None:
    env = dict(os.environ)
    env.pop("MOTOOLS_LOAD_PLUGINS", None)
    env["MOTOOLS_HOME"] = tempfile.mkdtemp()
    for args in (["--help"], ["workflow", "list"], ["plugins"]):
        med, times = median_runtime(args, env)
        print(
            f"motools {' '.join(args):15s} median {med * 1000:6.0f} ms  (min {min(times) * 1000:.0f}, max {max(times) * 1000:.0f}) over {len(times)} runs"
        )
    code = (
        "import sys, motools.cli; from motools import plugins; plugins.load_plugins(); "
        "plugins.workflows(); plugins.training_backends(); plugins.eval_backends(); plugins.datasets(); "
        "motools.cli._build(); "
        "print([m for m in ('openai','inspect_ai','torch','transformers') if m in sys.modules])"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    print("heavy modules imported by loading all plugins:", out.stdout.strip())


if __name__ == "__main__":
    main()
