"""Plots of a sweep: a metric against a swept parameter, error bars from the replicates.

Drawn with matplotlib's object API on an Agg canvas (no pyplot, no display, no global
state).  The optional HTML file is self-contained: the plot as inline SVG whose points
show their numbers on hover, plus sortable tables of the summary and the raw rows.
"""

from __future__ import annotations

import html as html_lib
import io
import math
import re
from pathlib import Path
from typing import Any

from motools.errors import UserError
from motools.sweep.analysis import ROW_KEYS, collate_rows, param_columns, replicate_axes
from motools.sweep.result import SweepResult
from motools.sweep.stats import clip_to_unit_interval, describe

ERRORS = {
    "ci95": "95% CI (Student t)",
    "sem": "standard error",
    "std": "standard deviation",
    "none": "",
}


def _rows(df: Any) -> tuple[list[dict[str, Any]], dict[str, str]]:
    if isinstance(df, SweepResult | str):
        sw = df if isinstance(df, SweepResult) else SweepResult.load(df)
        return collate_rows(sw), {v: k for k, v in sw.param_names.items()}
    if hasattr(df, "to_dict"):
        return df.to_dict(orient="records"), dict(getattr(df, "attrs", {}).get("params") or {})
    return list(df), {}


def resolve_column(name: str, columns: list[str], paths: dict[str, str]) -> str:
    """The column for a parameter given by column name, dotted path or path suffix."""
    if name in columns:
        return name
    for col, path in paths.items():
        if col in columns and (path == name or path.endswith("." + name)):
            return col
    hits = [c for c in columns if c.endswith("." + name)]
    if len(hits) == 1:
        return hits[0]
    raise UserError(
        f"no parameter {name!r} in the results; parameters: {param_columns(columns) or 'none'}"
    )


def _is_number(v: Any) -> bool:
    return (
        isinstance(v, int | float)
        and not isinstance(v, bool)
        and not (isinstance(v, float) and math.isnan(v))
    )


def _bar(stats: dict[str, Any], error: str) -> tuple[float, float]:
    """(below, above) the mean; confidence intervals may be asymmetric once clipped."""
    if error == "ci95":
        return float(stats["mean"] - stats["ci_low"]), float(stats["ci_high"] - stats["mean"])
    if error in ("sem", "std"):
        return float(stats[error]), float(stats[error])
    return float("nan"), float("nan")


def plot_metric(
    df: Any,
    x: str,
    y: str,
    hue: str | None = None,
    *,
    task: str | None = None,
    scorer: str | None = None,
    output: str | None = None,
    out: str | Path | None = None,
    html: str | Path | None = None,
    error: str = "ci95",
    title: str | None = None,
    where: dict[str, Any] | None = None,
) -> Any:
    """Plot metric ``y`` against parameter ``x`` (one line per ``hue`` value); return the Figure.

    ``df`` is a :func:`motools.sweep.collate` table (or its rows, a :class:`SweepResult`
    or a recorded sweep id).  Each point is the
    mean over replicates with error bars (``error``: ``ci95``, ``sem``, ``std`` or
    ``none``) and the individual replicates as faint dots.  ``out`` writes a PNG,
    ``html`` a self-contained interactive HTML page.  ``task``/``scorer``/``output``
    pick one series when the results hold several; ``where={"limit": 50}`` keeps the
    rows with those parameter values.  Other parameters that vary are never pooled:
    each combination becomes its own line.
    """
    if error not in ERRORS:
        raise UserError(f"error must be one of {sorted(ERRORS)}, got {error!r}")
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise UserError("plotting needs matplotlib: pip install 'motools-core[analysis]'") from None
    rows, paths = _rows(df)
    if not rows:
        raise UserError("no results to plot: no point of the sweep produced an evaluation")
    columns = list(dict.fromkeys(k for r in rows for k in r))
    xcol = resolve_column(x, columns, paths)
    hcol = resolve_column(hue, columns, paths) if hue else None
    metrics = sorted({str(r.get("metric")) for r in rows})
    rows = [r for r in rows if r.get("metric") == y]
    if not rows:
        raise UserError(f"no metric {y!r} in the results; metrics: {metrics}")
    for key, want in (("task", task), ("scorer", scorer), ("output", output)):
        if want is not None:
            have = sorted({str(r.get(key)) for r in rows})
            rows = [r for r in rows if r.get(key) == want]
            if not rows:
                raise UserError(f"no {key} {want!r} for metric {y!r}; {key}s: {have}")
    for name, want in (where or {}).items():
        col = resolve_column(name, columns, paths)
        have = sorted({str(r.get(col)) for r in rows})
        rows = [r for r in rows if r.get(col) == want or str(r.get(col)) == str(want)]
        if not rows:
            raise UserError(f"no rows with {col} = {want!r}; values: {have}")
    combos = list(dict.fromkeys(tuple(r.get(k) for k in ROW_KEYS[:3]) for r in rows))
    # Parameters that are neither plotted nor replicate axes must not be averaged together.
    axes = replicate_axes(columns)
    others = [
        c
        for c in param_columns(columns)
        if c not in (xcol, hcol) and c not in axes and len({str(r.get(c)) for r in rows}) > 1
    ]

    def series_of(r: dict[str, Any]) -> str:
        parts = [str(r.get(hcol))] if hcol else []
        parts += [f"{c}={r.get(c)}" for c in others]
        if len(combos) > 1:
            parts.append(
                "/".join(
                    str(r.get(k)) for k in ("output", "task", "scorer") if r.get(k) is not None
                )
            )
        return ", ".join(parts) or y

    groups: dict[str, dict[Any, list[Any]]] = {}
    for r in rows:
        groups.setdefault(series_of(r), {}).setdefault(r.get(xcol), []).append(r.get("value"))
    xs_all: list[Any] = list(dict.fromkeys(r.get(xcol) for r in rows))
    numeric = all(_is_number(v) for v in xs_all)
    if numeric:
        xs_all = sorted(xs_all)
        span = (max(xs_all) - min(xs_all)) or 1.0
        pos = {v: float(v) for v in xs_all}
        dodge = 0.015 * span
    else:
        pos = {v: float(i) for i, v in enumerate(xs_all)}
        dodge = 0.08

    fig = Figure(figsize=(7.5, 4.8), dpi=150)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    colors = [f"C{i % 10}" for i in range(len(groups))]
    summary: list[dict[str, Any]] = []
    ns: set[int] = set()
    for s, (name, by_x) in enumerate(groups.items()):
        off = (s - (len(groups) - 1) / 2) * dodge
        keys = sorted(by_x, key=lambda v: pos[v])
        stats = [clip_to_unit_interval(describe(by_x[k]), by_x[k]) for k in keys]
        px = [pos[k] + off for k in keys]
        means = [st["mean"] for st in stats]
        bars = [_bar(st, error) for st in stats]
        ax.errorbar(
            px,
            means,
            yerr=[
                [0.0 if math.isnan(b[0]) else b[0] for b in bars],
                [0.0 if math.isnan(b[1]) else b[1] for b in bars],
            ],
            color=colors[s],
            capsize=4,
            linewidth=1.6,
            marker="o",
            markersize=6,
            label=name,
            linestyle="-" if numeric else "none",
        )
        for k, xp, st in zip(keys, px, stats, strict=True):
            ns.add(st["n"])
            vals = [v for v in by_x[k] if _is_number(v)]
            if len(vals) > 1:
                # Replicates as dots just beside the mean, so the error bar does not hide them.
                jit = [xp + dodge * (0.45 + 0.12 * (j % 3)) for j in range(len(vals))]
                ax.scatter(jit, vals, s=14, color=colors[s], alpha=0.45, linewidths=0, zorder=2)
            gid = f"pt-{len(summary)}"
            ax.plot(
                [xp],
                [st["mean"]],
                marker="o",
                markersize=6,
                color=colors[s],
                linestyle="none",
                gid=gid,
                zorder=3,
            )
            summary.append({"series": name, xcol: k, **st, "values": vals})
    if not numeric or len(xs_all) <= 12:
        ax.set_xticks([pos[v] for v in xs_all], [str(v) for v in xs_all])
    ax.set_xlabel(xcol)
    ax.set_ylabel(y)
    context = ["/".join(str(c) for c in combos[0][1:] if c is not None)] if len(combos) == 1 else []
    context += [f"{k}={v}" for k, v in (where or {}).items()]
    subtitle = ", ".join(c for c in context if c)
    ax.set_title(title or f"{y} vs {xcol}" + (f"  ({subtitle})" if subtitle else ""), fontsize=11)
    ax.grid(True, alpha=0.3)
    if hcol or len(groups) > 1:
        ax.legend(title=hcol or None, fontsize=8, title_fontsize=8, frameon=False)
    n_text = f"n = {min(ns)}" if len(ns) == 1 else f"n = {min(ns)}-{max(ns)}"
    averaged_axes = [a for a in axes if a not in (xcol, hcol)]
    averaged = (
        ", ".join("replicates" if a == "replicate" else a for a in averaged_axes) or "replicates"
    )
    caption = f"Points: mean over {averaged} ({n_text} each)"
    if error != "none":
        caption += f"; error bars: {ERRORS[error]}; dots: individual values"
    fig.text(0.01, 0.01, caption, fontsize=7, color="0.35")
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    if out is not None:
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(out, format="png")
    if html is not None:
        Path(html).parent.mkdir(parents=True, exist_ok=True)
        Path(html).write_text(
            _html_page(fig, summary, rows, xcol, y, error, caption, ax.get_title()),
            encoding="utf-8",
        )
    return fig


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return "" if math.isnan(v) else f"{v:.4g}"
    return "" if v is None else str(v)


def _table(rows: list[dict[str, Any]], columns: list[str], pt_ids: bool = False) -> str:
    head = "".join(f"<th>{html_lib.escape(c)}</th>" for c in columns)
    body = []
    for k, r in enumerate(rows):
        attr = f' data-pt="pt-{k}"' if pt_ids else ""
        cells = "".join(f"<td>{html_lib.escape(_fmt(r.get(c)))}</td>" for c in columns)
        body.append(f"<tr{attr}>{cells}</tr>")
    return f'<table class="sortable"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'


_SCRIPT = """
document.querySelectorAll('table.sortable th').forEach(function (th, col) {
  th.addEventListener('click', function () {
    var tbody = th.closest('table').tBodies[0];
    var rows = Array.from(tbody.rows), asc = th.dataset.asc !== '1';
    th.closest('tr').querySelectorAll('th').forEach(function (h) { delete h.dataset.asc; });
    th.dataset.asc = asc ? '1' : '0';
    rows.sort(function (a, b) {
      var x = a.cells[col].textContent, y = b.cells[col].textContent;
      var nx = parseFloat(x), ny = parseFloat(y);
      var c = (!isNaN(nx) && !isNaN(ny)) ? nx - ny : x.localeCompare(y);
      return asc ? c : -c;
    });
    rows.forEach(function (r) { tbody.appendChild(r); });
  });
});
document.querySelectorAll('g.pt').forEach(function (g) {
  var row = document.querySelector('tr[data-pt="' + g.id + '"]');
  if (!row) return;
  g.addEventListener('mouseenter', function () { row.classList.add('hl'); });
  g.addEventListener('mouseleave', function () { row.classList.remove('hl'); });
});
"""

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; font-size: 13px; margin-bottom: 2em; }
th, td { border: 1px solid #ddd; padding: 3px 8px; text-align: right; }
th { background: #f3f3f3; cursor: pointer; user-select: none; }
tr.hl td { background: #fff3b0; }
g.pt { cursor: help; }
.caption { color: #555; font-size: 13px; }
"""


def _html_page(
    fig: Any,
    summary: list[dict[str, Any]],
    rows: list[dict[str, Any]],
    xcol: str,
    y: str,
    error: str,
    caption: str,
    title: str,
) -> str:
    buf = io.StringIO()
    fig.savefig(buf, format="svg")
    svg = buf.getvalue()
    svg = svg[svg.find("<svg") :]

    def tip(m: re.Match[str]) -> str:
        k = int(m.group(1))
        s = summary[k]
        lines = [s["series"], f"{xcol} = {s[xcol]}", f"mean {y} = {_fmt(s['mean'])} (n = {s['n']})"]
        if error != "none" and not math.isnan(s["sem"]):
            lines.append(
                f"95% CI [{_fmt(s['ci_low'])}, {_fmt(s['ci_high'])}], sem {_fmt(s['sem'])}"
            )
        if s["values"]:
            lines.append("values: " + ", ".join(_fmt(v) for v in s["values"]))
        return f'<g id="pt-{k}" class="pt"><title>{html_lib.escape(chr(10).join(lines))}</title>'

    svg = re.sub(r'<g id="pt-(\d+)">', tip, svg)
    sum_cols = ["series", xcol, "n", "mean", "std", "sem", "ci_low", "ci_high"]
    raw_cols = [
        c for c in dict.fromkeys(k for r in rows for k in r) if c not in ("run_id", "eval_id")
    ] + ["run_id"]
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html_lib.escape(title)}</title>"
        f"<style>{_STYLE}</style></head><body><h1>{html_lib.escape(title)}</h1>"
        f"<p class='caption'>{html_lib.escape(caption)}. Hover a point for its numbers; click a column to sort.</p>"
        f"<div>{svg}</div><h2>Summary</h2>{_table(summary, sum_cols, pt_ids=True)}"
        f"<h2>All rows</h2>{_table(rows, raw_cols)}<script>{_SCRIPT}</script></body></html>"
    )
