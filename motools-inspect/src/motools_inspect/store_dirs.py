"""Where Inspect keeps its files for one motools store (never the user's home).

Everything lives under ``<store>/inspect/``::

    data/      Inspect's data dir (traces, sample buffers, kv stores)
    cache/     Inspect's cache dir (generate cache, downloads)
    work/      the workers' working directory; holds an empty ``.env`` so that Inspect's
               upward search for a ``.env`` file stops here
    workers/   each worker's stderr (read back when a worker dies)
    failed/    copies of errored ``.eval`` logs (the failed step's workspace is deleted)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class InspectDirs:
    """The Inspect directories of one store (created by :meth:`ensure`)."""

    root: Path

    @classmethod
    def for_store(cls, store_root: Path) -> InspectDirs:
        return cls(Path(store_root) / "inspect")

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def cache(self) -> Path:
        return self.root / "cache"

    @property
    def work(self) -> Path:
        return self.root / "work"

    @property
    def workers(self) -> Path:
        return self.root / "workers"

    @property
    def failed(self) -> Path:
        return self.root / "failed"

    def ensure(self) -> InspectDirs:
        """Create the directories and the empty ``.env`` guard; return self."""
        for d in (self.data, self.cache, self.work, self.workers, self.failed):
            d.mkdir(parents=True, exist_ok=True)
        guard = self.work / ".env"
        if not guard.exists():
            guard.write_text(
                "# empty on purpose: stops Inspect loading a .env from a parent directory\n"
            )
        return self
