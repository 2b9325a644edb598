"""Sweep results as tables: one row per point x task x scorer x metric, and statistics.

``collate_rows`` / ``summarize_rows`` are plain Python (no pandas needed, used by the
CLI); :func:`collate` and :func:`summarize` return pandas DataFrames (install
``motools-core[analysis]``).  Replicate axes: the ``replicate`` column plus any swept
parameter called ``seed`` (``prepare_dataset.loader_kwargs.seed: [0, 1, 2]`` is a
replicate axis too), unless ``over=`` says otherwise.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from motools.errors import UserError
from motools.sweep.definition import RESERVED_COLUMNS
from motools.sweep.result import SweepResult
from motools.sweep.stats import clip_to_unit_interval, describe

if TYPE_CHECKING:
    import pandas as pd

    from motools.store import ContentStore

ROW_KEYS = ("output", "task", "scorer", "metric")
SUMMARY_STATS = ("n", "mean", "std", "sem", "ci_low", "ci_high")


def require_pandas() -> Any:
    """Import pandas or explain how to install it."""
    try:
        import pandas
    except ImportError:
        raise UserError(
            "sweep analysis needs pandas: pip install 'motools-core[analysis]' (pandas and matplotlib)"
        ) from None
    return pandas


def _cell(value: Any) -> Any:
    """A table cell: scalars as they are, lists and mappings as compact JSON."""
    if isinstance(value, dict | list | tuple):
        return json.dumps(value, sort_keys=True)
    return value


def _as_sweep(sweep: SweepResult | str, store: ContentStore | None) -> SweepResult:
    if isinstance(sweep, SweepResult):
        return sweep
    return SweepResult.load(str(sweep), store)


def collate_rows(
    sweep: SweepResult | str, store: ContentStore | None = None
) -> list[dict[str, Any]]:
    """Tidy rows from every ``eval`` atom the succeeded points produced.

    Columns: ``point``, ``replicate``, one column per swept parameter (its short name),
    ``output`` (the output atom name, e.g. ``eval_results``), ``task``, ``scorer``,
    ``metric``, ``value``, ``run_id``, ``eval_id``.
    """
    from motools.store import get_store

    sw = _as_sweep(sweep, store)
    st = store or get_store()
    rows: list[dict[str, Any]] = []
    for p in sw.points:
        if p.status != "succeeded":
            continue
        base = {"point": p.index, "replicate": p.replicate}
        for path, value in p.params.items():
            base[sw.param_names.get(path, path)] = _cell(value)
        for out_name, atom_id in sorted(p.outputs.items()):
            if not atom_id.startswith("eval-"):
                continue
            atom = st.get_atom(atom_id)
            for r in atom.rows():  # type: ignore[attr-defined]
                rows.append(
                    {**base, "output": out_name, **r, "run_id": p.run_id, "eval_id": atom_id}
                )
    return rows


def param_columns(columns: list[str]) -> list[str]:
    """The swept-parameter columns of a collated table (everything not reserved)."""
    return [c for c in columns if c not in RESERVED_COLUMNS]


def replicate_axes(columns: list[str]) -> list[str]:
    """``replicate`` plus every parameter column that is a seed."""
    axes = ["replicate"] if "replicate" in columns else []
    for c in param_columns(columns):
        last = c.rsplit(".", 1)[-1]
        if last == "seed" or last.endswith("_seed"):
            axes.append(c)
    return axes


def summarize_rows(
    rows: list[dict[str, Any]], over: list[str] | None = None, confidence: float = 0.95
) -> list[dict[str, Any]]:
    """Statistics across replicates: one row per parameter combination x output x task x scorer x metric.

    Adds ``n``, ``mean``, ``std``, ``sem``, ``ci_low`` and ``ci_high`` (a Student-t
    interval at ``confidence``).  ``over`` names the columns averaged over (default:
    :func:`replicate_axes`).  Evaluators' own ``stderr`` rows are left out (a standard
    error is not a quantity to average across replicates), and the interval of a metric
    whose values all lie in [0, 1] (a proportion such as accuracy) is clipped to [0, 1].
    """
    if not rows:
        return []
    columns = list(dict.fromkeys(k for r in rows for k in r))
    axes = replicate_axes(columns) if over is None else list(over)
    unknown = [a for a in axes if a not in columns]
    if unknown:
        raise UserError(f"cannot average over {unknown}: columns are {columns}")
    by = [c for c in param_columns(columns) if c not in axes] + [
        k for k in ROW_KEYS if k in columns
    ]
    groups: dict[tuple[Any, ...], list[Any]] = {}
    for r in rows:
        if r.get("metric") == "stderr":
            continue
        groups.setdefault(tuple(r.get(c) for c in by), []).append(r.get("value"))
    out = []
    for key, values in groups.items():
        stats = clip_to_unit_interval(describe(values, confidence), values)
        out.append({**dict(zip(by, key, strict=True)), **stats})
    return out


def collate(sweep: SweepResult | str, store: ContentStore | None = None) -> pd.DataFrame:
    """A pandas DataFrame of the sweep's evaluation results (see :func:`collate_rows`).

    ``sweep`` is a :class:`SweepResult` or a recorded sweep id.  ``df.attrs["params"]``
    maps each parameter column to its dotted config path.
    """
    pd = require_pandas()
    sw = _as_sweep(sweep, store)
    rows = collate_rows(sw, store)
    params = [sw.param_names.get(p, p) for p in sw.param_names]
    cols = ["point", "replicate", *params, *ROW_KEYS, "value", "run_id", "eval_id"]
    df = pd.DataFrame(rows, columns=cols)
    df.attrs["params"] = {v: k for k, v in sw.param_names.items()}
    df.attrs["sweep_id"] = sw.sweep_id
    return df


def summarize(
    df: pd.DataFrame, over: list[str] | None = None, confidence: float = 0.95
) -> pd.DataFrame:
    """Mean, standard error and t confidence interval across replicates, with ``n``.

    ``df`` is a :func:`collate` table; ``over`` as in :func:`summarize_rows`.
    """
    pd = require_pandas()
    rows = df.to_dict(orient="records")
    out = summarize_rows(rows, over=over, confidence=confidence)
    axes = replicate_axes(list(df.columns)) if over is None else list(over)
    by = [c for c in param_columns(list(df.columns)) if c not in axes] + [
        k for k in ROW_KEYS if k in df.columns
    ]
    res = pd.DataFrame(out, columns=[*by, *SUMMARY_STATS])
    res.attrs.update(df.attrs)
    return res
