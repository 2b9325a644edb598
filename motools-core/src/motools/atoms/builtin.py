"""Built-in atom types: dataset, training_job, model, eval."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from motools.atoms.base import Atom
from motools.errors import UserError

VALID_ROLES = {"system", "user", "assistant", "tool", "developer"}


def validate_chat_row(row: Any, row_number: int, source: str = "dataset") -> None:
    """Raise a :class:`UserError` naming ``row_number`` if ``row`` is not a chat example."""
    where = f"{source}, row {row_number}"
    if not isinstance(row, dict) or "messages" not in row:
        raise UserError(f"{where}: expected an object with a 'messages' list")
    msgs = row["messages"]
    if not isinstance(msgs, list) or not msgs:
        raise UserError(f"{where}: 'messages' must be a non-empty list")
    for i, m in enumerate(msgs):
        if not isinstance(m, dict):
            raise UserError(f"{where}: messages[{i}] must be an object with 'role' and 'content'")
        role = m.get("role")
        if role not in VALID_ROLES:
            raise UserError(
                f"{where}: messages[{i}].role is {role!r}; expected one of {sorted(VALID_ROLES)}"
            )
        content = m.get("content")
        if not isinstance(content, str) and not isinstance(content, list):
            raise UserError(f"{where}: messages[{i}].content must be a string")


def read_jsonl_rows(path: Path) -> Iterator[dict[str, Any]]:
    """Yield the JSON objects of a JSONL file, naming the line of any bad JSON."""
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                yield json.loads(line)
            except json.JSONDecodeError as e:
                raise UserError(f"{path}: line {n} is not valid JSON: {e.msg}") from None


class DatasetAtom(Atom):
    """A chat-format JSONL dataset: rows of ``{"messages": [{"role", "content"}, ...]}``."""

    type = "dataset"

    @property
    def jsonl_path(self) -> Path:
        """The dataset's JSONL file."""
        files = [p for p in self.files() if p.suffix == ".jsonl"]
        if not files:
            raise UserError(f"dataset atom {self.id} has no .jsonl file")
        return files[0]

    def iter_rows(self) -> Iterator[dict[str, Any]]:
        """Iterate the rows (memory independent of dataset size)."""
        yield from read_jsonl_rows(self.jsonl_path)

    def rows(self) -> list[dict[str, Any]]:
        """All rows as a list."""
        return list(self.iter_rows())

    def count(self) -> int:
        """Number of rows."""
        if "num_rows" in self.metadata:
            return int(self.metadata["num_rows"])
        return sum(1 for _ in self.iter_rows())

    def sample(self, n: int, seed: int = 0) -> list[dict[str, Any]]:
        """``n`` rows chosen uniformly without replacement, reproducible for a seed."""
        rows = self.rows()
        if n >= len(rows):
            return rows
        return random.Random(seed).sample(rows, n)

    def validate(self) -> int:
        """Check every row is a chat example; return the row count."""
        n = 0
        for n, row in enumerate(self.iter_rows(), start=1):
            validate_chat_row(row, n, source=str(self.id))
        return n


class TrainingJobAtom(Atom):
    """A handle to a backend training job."""

    type = "training_job"

    @property
    def backend(self) -> str:
        return str(self.metadata["backend"])

    @property
    def job_id(self) -> str:
        """The provider's job id."""
        return str(self.metadata["job_id"])

    @property
    def base_model(self) -> str:
        return str(self.metadata.get("base_model", ""))

    @property
    def dataset_hash(self) -> str:
        return str(self.metadata.get("dataset_hash", ""))

    @property
    def submitted_at(self) -> str:
        return str(self.metadata.get("submitted_at", ""))

    @property
    def handle(self) -> dict[str, Any]:
        """The backend's job handle (everything needed to poll or cancel the job)."""
        return dict(self.metadata.get("handle") or {"job_id": self.job_id})

    @property
    def status(self) -> str:
        """Last known provider status (updated while waiting)."""
        rec = self._store.kv_get("job_status", self.id)
        return str(rec["status"]) if rec else str(self.metadata.get("status", "submitted"))


class ModelAtom(Atom):
    """A model usable for inference: provider, model id, base model, source job."""

    type = "model"

    @property
    def provider(self) -> str:
        return str(self.metadata["provider"])

    @property
    def model_id(self) -> str:
        return str(self.metadata["model_id"])

    @property
    def base_model(self) -> str:
        return str(self.metadata.get("base_model", ""))

    @property
    def training_job(self) -> str | None:
        return self.metadata.get("training_job")

    @property
    def weights_dir(self) -> Path | None:
        """Local weights directory, if the model's weights are stored in the atom."""
        p = self.get_data_path() / "weights"
        if p.is_dir():
            return p
        wd = self.metadata.get("weights_dir")
        return Path(wd) if wd else None


class EvalAtom(Atom):
    """Evaluation results: task -> scorer -> metric -> value, plus raw logs."""

    type = "eval"

    @property
    def results(self) -> dict[str, dict[str, dict[str, float]]]:
        """``{task: {scorer: {metric: value}}}``: every scorer kept separately."""
        return dict(self.metadata.get("results") or {})

    @property
    def samples(self) -> dict[str, int]:
        """Completed sample counts per task."""
        return dict(self.metadata.get("samples") or {})

    def log_files(self) -> list[Path]:
        """The raw evaluation log files stored in the atom."""
        return [p for p in self.files() if p.suffix in (".eval", ".json")]

    def metric(
        self, task: str | None = None, scorer: str | None = None, metric: str = "accuracy"
    ) -> float:
        """One metric value; ``task``/``scorer`` may be omitted when unambiguous."""
        res = self.results
        tasks = [task] if task else list(res)
        if len(tasks) != 1:
            raise UserError(f"eval {self.id} has several tasks {list(res)}: name one")
        if tasks[0] not in res:
            raise UserError(f"eval {self.id} has no task {tasks[0]!r}; tasks: {list(res)}")
        scorers = res[tasks[0]]
        names = [scorer] if scorer else list(scorers)
        if len(names) != 1:
            raise UserError(f"eval {self.id} has several scorers {list(scorers)}: name one")
        if names[0] not in scorers:
            raise UserError(f"eval {self.id} has no scorer {names[0]!r}; scorers: {list(scorers)}")
        metrics = scorers[names[0]]
        if metric not in metrics:
            raise UserError(
                f"eval {self.id}: scorer {names[0]!r} has no metric {metric!r}; metrics: {list(metrics)}"
            )
        value = metrics[metric]
        # Undefined metrics (NaN in the evaluator) are stored as JSON null.
        return float("nan") if value is None else float(value)

    def rows(self) -> list[dict[str, Any]]:
        """Tidy rows: one per task x scorer x metric."""
        return [
            {"task": t, "scorer": s, "metric": m, "value": v}
            for t, scorers in self.results.items()
            for s, metrics in scorers.items()
            for m, v in metrics.items()
        ]


BUILTIN_ATOM_TYPES: tuple[type[Atom], ...] = (DatasetAtom, TrainingJobAtom, ModelAtom, EvalAtom)
