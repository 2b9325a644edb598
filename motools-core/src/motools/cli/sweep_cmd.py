"""``motools sweep``: run, plan, list and analyse sweeps (grids of workflow runs)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

sweep_app = typer.Typer(
    help="Sweeps: run one workflow over a grid of config values with replicates, then tabulate and plot.",
    no_args_is_help=True,
)

FileArg = Annotated[
    Path, typer.Argument(help="Sweep YAML file (workflow, config, sweep: {grid, replicates}).")
]
IdArg = Annotated[
    str, typer.Argument(help="Sweep id (or a unique prefix), see 'motools sweep ls'.")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON on stdout.")]


def _params_text(params: dict[str, Any], names: dict[str, str]) -> str:
    from motools.sweep.definition import format_params

    return format_params(params, names) or "-"


def _short(text: str | None, n: int = 100) -> str:
    if not text:
        return ""
    text = text.replace("\n", " ")
    return text if len(text) <= n else text[: n - 1] + "…"


@sweep_app.command("run")
def run(
    file: FileArg,
    max_parallel: Annotated[
        int, typer.Option("--max-parallel", "-j", min=1, help="Points running at once.")
    ] = 4,
    json_: JsonOpt = False,
    user: Annotated[
        str | None, typer.Option("--user", help="User owning the atoms (default: config / $USER).")
    ] = None,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="No progress display on stderr.")
    ] = False,
) -> None:
    """Run every point of a sweep (validated first); re-running resumes from the cache.

    Exit status 1 when any point failed; the other points still run to the end.
    """
    from motools.cli.output import info, print_json, table
    from motools.sweep import load_sweep_file, run_sweep

    defn = load_sweep_file(file)
    result = run_sweep(defn, max_parallel=max_parallel, user=user, progress=not quiet)
    if json_:
        print_json(
            {
                "sweep_id": result.sweep_id,
                "status": result.status,
                "points": [
                    {
                        "index": p.index,
                        "params": p.params,
                        "replicate": p.replicate,
                        "run_id": p.run_id,
                        "status": p.status,
                        "cached": p.cached,
                        "error": p.error,
                        "outputs": p.outputs,
                    }
                    for p in result.points
                ],
            }
        )
    else:
        table(
            [
                {
                    "point": p.index,
                    "params": _params_text(p.params, result.param_names),
                    "replicate": p.replicate,
                    "status": p.status + (" (cached)" if p.cached else ""),
                    "run_id": p.run_id,
                    "error": _short(p.error),
                }
                for p in result.points
            ],
            ["point", "params", "replicate", "status", "run_id", "error"],
            title=f"sweep {result.sweep_id}",
        )
        info(
            f"Results: motools sweep results {result.sweep_id}   Plot: motools sweep plot {result.sweep_id} --x PARAM --metric NAME -o plot.png"
        )
    if not result.ok:
        raise typer.Exit(1)


@sweep_app.command("plan")
def plan(
    file: FileArg,
    json_: JsonOpt = False,
    user: Annotated[
        str | None, typer.Option("--user", help="User (the sweep id depends on it).")
    ] = None,
    prepare: Annotated[
        bool,
        typer.Option(
            "--prepare/--no-prepare",
            help="Prepare the datasets (cheap, cached for the run) so that training costs "
            "can be estimated; nothing paid runs either way.",
        ),
    ] = True,
) -> None:
    """Validate every point and show what would run: cached / in flight / will run, and estimated cost."""
    from motools.cli.output import info, print_json, table
    from motools.sweep import load_sweep_file, plan_sweep

    result = plan_sweep(load_sweep_file(file), user=user, prepare=prepare)
    if json_:
        print_json(result)
        return
    names = result["param_names"]
    rows = []
    for p in result["points"]:
        shared = sorted({s["shared_with"] for s in p["steps"] if "shared_with" in s})
        cost = (
            "?"
            if p["cost_unknown"]
            else (f"${p['estimated_cost_usd']:.4f}" if p["estimated_cost_usd"] else "-")
        )
        rows.append(
            {
                "point": p["index"],
                "params": _params_text(p["params"], names),
                "replicate": p["replicate"],
                "status": p["status"],
                "new steps": p["new_steps"],
                "shares with": ", ".join(f"point {j}" for j in shared),
                "est. cost": cost,
            }
        )
    table(
        rows,
        ["point", "params", "replicate", "status", "new steps", "shares with", "est. cost"],
        title=f"sweep {result['sweep_id']} ({result['workflow']})",
    )
    t = result["totals"]
    cost = f"${t['estimated_cost_usd']:.4f}" + (
        " + unknown (needs the dataset prepared first: drop --no-prepare)"
        if t["cost_unknown"]
        else ""
    )
    if t.get("steps_prepared"):
        info(
            f"prepared {t['steps_prepared']} dataset step(s) to estimate costs (cached for the run)"
        )
    info(
        f"{t['points']} point(s): {t['cached']} cached, {t['in_flight']} in flight, {t['will_run']} will run; "
        f"{t['steps_to_run']} step(s) to run; estimated cost {cost}. All points are valid."
    )


@sweep_app.command("ls")
def ls(
    json_: JsonOpt = False,
    limit: Annotated[
        int, typer.Option("--limit", "-n", min=1, help="How many sweeps to show.")
    ] = 50,
) -> None:
    """List recorded sweeps, most recently updated first."""
    from motools.cli.output import info, print_json, table
    from motools.store import get_store
    from motools.sweep.records import list_sweeps

    rows = list_sweeps(get_store(), limit)
    if json_:
        print_json(rows)
        return
    if not rows:
        info("No sweeps recorded yet (run one with 'motools sweep run FILE').")
        return
    for r in rows:
        r["counts"] = ", ".join(f"{n} {s}" for s, n in sorted(r["counts"].items()))
    table(
        rows, ["sweep_id", "name", "workflow", "user", "status", "points", "counts", "updated_at"]
    )


@sweep_app.command("status")
def status(sweep_id: IdArg, json_: JsonOpt = False) -> None:
    """Every point of a sweep: parameters, status, run id, current step, error."""
    from motools.cli.output import info, print_json, table
    from motools.store import get_store
    from motools.sweep.records import live_run_status, load_sweep

    store = get_store()
    sw = load_sweep(store, sweep_id)
    live = live_run_status(
        store, [p.run_id for p in sw.points if p.status == "running" and p.run_id]
    )
    points = []
    for p in sw.points:
        d = p.to_dict()
        run = live.get(p.run_id or "")
        if run is not None:
            d["run_status"], d["current_step"] = run["status"], run["step"]
        points.append(d)
    if json_:
        print_json(
            {
                **{k: v for k, v in sw.to_dict().items() if k != "points"},
                "source": sw.source,
                "created_at": sw.created_at,
                "updated_at": sw.updated_at,
                "points": points,
            }
        )
        return
    counts = ", ".join(f"{n} {s}" for s, n in sw.counts().items() if n)
    info(
        f"sweep {sw.sweep_id} ({sw.name or '-'}) of workflow {sw.workflow} by {sw.user}: {sw.status} [{counts}]"
        f"\n  source: {sw.source}   updated: {sw.updated_at}"
    )
    table(
        [
            {
                "point": d["index"],
                "params": _params_text(d["params"], sw.param_names),
                "replicate": d["replicate"],
                "status": d["status"] + (" (cached)" if d["cached"] else ""),
                "step": d.get("current_step") or "",
                "run_id": d["run_id"],
                "error": _short(d["error"]),
            }
            for d in points
        ],
        ["point", "params", "replicate", "status", "step", "run_id", "error"],
    )


@sweep_app.command("results")
def results(
    sweep_id: IdArg,
    csv: Annotated[
        Path | None, typer.Option("--csv", help="Write the table to this CSV file.")
    ] = None,
    json_: JsonOpt = False,
    summary: Annotated[
        bool,
        typer.Option(
            "--summary",
            help="With --csv: write the statistics across replicates instead of the rows.",
        ),
    ] = False,
    rows_: Annotated[
        bool,
        typer.Option(
            "--rows",
            help="Show the rows (one per point x task x scorer x metric) instead of the statistics.",
        ),
    ] = False,
) -> None:
    """Evaluation results of a sweep: rows per point x task x scorer x metric, and mean / sem / 95% CI across replicates."""
    from motools.cli.output import info, print_json, table
    from motools.store import get_store
    from motools.sweep.analysis import collate_rows, summarize_rows
    from motools.sweep.records import load_sweep

    store = get_store()
    sw = load_sweep(store, sweep_id)
    rows = collate_rows(sw, store)
    stats = summarize_rows(rows)
    if json_:
        print_json(
            {"sweep_id": sw.sweep_id, "param_names": sw.param_names, "rows": rows, "summary": stats}
        )
        return
    if csv is not None:
        _write_csv(csv, stats if summary else rows)
        info(f"wrote {len(stats if summary else rows)} row(s) to {csv}")
        return
    if not rows:
        info(
            f"sweep {sw.sweep_id}: no evaluation results yet ({sw.counts()['succeeded']} point(s) succeeded)"
        )
        return
    shown = rows if rows_ else [_round(r) for r in stats]
    table(shown, list(dict.fromkeys(k for r in shown for k in r)), title=f"sweep {sw.sweep_id}")
    if len(sw.failed):
        info(
            f"note: {len(sw.failed)} point(s) did not succeed and are not in the table (see 'motools sweep status {sw.sweep_id}')"
        )


def _round(row: dict[str, Any]) -> dict[str, Any]:
    return {k: (f"{v:.4g}" if isinstance(v, float) else v) for k, v in row.items()}


def _write_csv(path: Path, rows: list[dict[str, Any]]) -> None:
    import csv as csv_mod

    path.parent.mkdir(parents=True, exist_ok=True)
    cols = list(dict.fromkeys(k for r in rows for k in r))
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv_mod.DictWriter(f, fieldnames=cols)
        w.writeheader()
        w.writerows(rows)


@sweep_app.command("plot")
def plot(
    sweep_id: IdArg,
    x: Annotated[
        str, typer.Option("--x", help="Swept parameter on the x axis (short name or dotted path).")
    ],
    metric: Annotated[str, typer.Option("--metric", help="Metric to plot, e.g. accuracy.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="PNG file to write.")],
    hue: Annotated[
        str | None, typer.Option("--hue", help="Parameter giving one line per value.")
    ] = None,
    html: Annotated[
        Path | None,
        typer.Option("--html", help="Also write a self-contained interactive HTML page."),
    ] = None,
    task: Annotated[
        str | None, typer.Option("--task", help="Task to plot when there are several.")
    ] = None,
    scorer: Annotated[
        str | None, typer.Option("--scorer", help="Scorer to plot when there are several.")
    ] = None,
    error: Annotated[
        str, typer.Option("--error", help="Error bars: ci95, sem, std or none.")
    ] = "ci95",
    where: Annotated[
        list[str] | None,
        typer.Option(
            "--where", help="Keep rows with PARAM=VALUE (repeatable), e.g. --where limit=50."
        ),
    ] = None,
) -> None:
    """Plot a metric against a swept parameter, error bars from the replicates.

    Parameters other than --x and --hue that vary are drawn as separate lines, never
    averaged together; --where fixes them instead.
    """
    import yaml

    from motools.cli.output import info
    from motools.errors import UserError
    from motools.store import get_store
    from motools.sweep.plotting import plot_metric
    from motools.sweep.records import load_sweep

    filters: dict[str, Any] = {}
    for w in where or []:
        key, sep, raw = w.partition("=")
        if not sep or not key.strip():
            raise UserError(f"--where {w!r}: expected PARAM=VALUE, e.g. --where limit=50")
        filters[key.strip()] = yaml.safe_load(raw) if raw.strip() else ""
    store = get_store()
    sw = load_sweep(store, sweep_id)
    plot_metric(
        sw,
        x=x,
        y=metric,
        hue=hue,
        task=task,
        scorer=scorer,
        out=out,
        html=html,
        error=error,
        where=filters,
    )
    info(f"wrote {out}" + (f" and {html}" if html else ""))
