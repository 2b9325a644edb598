"""``results()``: eval atoms as a tidy table (one row per task x scorer x metric)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from motools.errors import UserError

COLUMNS = ("eval", "model", "inspect_model", "task", "scorer", "metric", "value", "samples")


def results(evals: Any, *, dataframe: bool = False, store: Any = None) -> Any:
    """Tidy rows of one or more eval atoms (atoms or ids): a list of dicts, or a DataFrame.

    Each row has ``eval`` (atom id), ``model`` (the evaluated model atom id),
    ``inspect_model``, ``task``, ``scorer``, ``metric``, ``value`` and ``samples``
    (completed samples of that task).  With ``dataframe=True`` the rows come back as a
    pandas DataFrame (pandas must be installed); a sweep's eval atoms then pivot easily.
    """
    from motools.atoms.base import Atom

    items = (
        [evals]
        if isinstance(evals, str | Atom)
        else list(evals)
        if isinstance(evals, Iterable)
        else [evals]
    )
    rows: list[dict[str, Any]] = []
    for item in items:
        atom = item if isinstance(item, Atom) else Atom.load(str(item), store)
        if atom.type != "eval":
            raise UserError(f"{atom.id} is a {atom.type!r} atom, not an eval atom")
        meta = atom.metadata
        samples = meta.get("samples") or {}
        for task, scorers in (meta.get("results") or {}).items():
            for scorer, metrics in scorers.items():
                for metric, value in metrics.items():
                    rows.append({
                        "eval": atom.id,
                        "model": meta.get("model"),
                        "inspect_model": meta.get("inspect_model"),
                        "task": task,
                        "scorer": scorer,
                        "metric": metric,
                        "value": value,
                        "samples": samples.get(task),
                    })  # fmt: skip
    if not dataframe:
        return rows
    try:
        import pandas as pd
    except ImportError:
        raise UserError("results(dataframe=True) needs pandas: pip install pandas") from None
    return pd.DataFrame(rows, columns=list(COLUMNS))
