"""A child process that writes atoms into a store, for concurrency and crash tests.

``python -m tests.support.store_writer STORE PREFIX COUNT`` writes COUNT dataset atoms
(COUNT = 0: forever, until killed), each with a small JSONL file, a parent edge to the
previous atom, and prints ``ok N`` at the end.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

from motools.store import ContentStore


def write_atoms(root: str, prefix: str, count: int) -> int:
    store = ContentStore(root)
    print("writing", flush=True)  # tests kill the process only once it is writing
    work = Path(tempfile.mkdtemp(dir=store.tmp_dir, prefix=f"writer-{prefix}-"))
    previous = None
    n = 0
    while count == 0 or n < count:
        path = work / "data.jsonl"
        rows = [
            {
                "messages": [
                    {"role": "user", "content": f"{prefix} {n} {i}"},
                    {"role": "assistant", "content": "x" * (n % 7)},
                ]
            }
            for i in range(3)
        ]
        path.write_text("".join(json.dumps(r) + "\n" for r in rows))
        parents = {"previous": previous} if previous else None
        atom = store.create_atom(
            "dataset", "writer", path, metadata={"prefix": prefix, "n": n}, parents=parents
        )
        previous = atom.id
        n += 1
    return n


if __name__ == "__main__":
    done = write_atoms(sys.argv[1], sys.argv[2], int(sys.argv[3]))
    print(f"ok {done}")
