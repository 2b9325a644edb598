"""``motools workflow``: list, run, plan, runs, status, resume."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

workflow_app = typer.Typer(help="Run workflows and inspect their runs.", no_args_is_help=True)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON on stdout.")]


@workflow_app.command("list")
def list_(json_: JsonOpt = False) -> None:
    """List every discovered workflow: name, plugin distribution, steps and description."""
    from motools import plugins
    from motools.cli.output import print_json, table

    rows: list[dict[str, Any]] = []
    dists = {p.name: p.distribution for p in plugins.list_plugins(include_builtin=True)}
    for name, item in sorted(plugins.workflows().items()):
        steps: list[str] = [s if isinstance(s, str) else s.name for s in getattr(item, "steps", ())]
        plugin = plugins.registered_by("register_workflows", name)
        rows.append(
            {
                "name": name,
                "distribution": dists.get(plugin or "", None),
                "plugin": plugin,
                "steps": steps,
                "description": (getattr(item, "description", "") or "").strip().split("\n")[0],
            }
        )
    if json_:
        print_json(rows)
        return
    if not rows:
        typer.echo("No workflows installed (install mozoo for the ready workflows).", err=True)
        return
    table(
        [{**r, "steps": " → ".join(r["steps"])} for r in rows],
        ["name", "distribution", "steps", "description"],
    )


def _prepare(name: str, config: Path | None, sets: list[str] | None) -> tuple[Any, Any, str]:
    from motools.errors import ConfigError
    from motools.workflow.loading import load_workflow_config, resolve_workflow

    wf = resolve_workflow(name)
    if config is None and not sets:
        raise ConfigError(
            f"workflow {name!r} needs a config: pass --config FILE (YAML) and/or --set KEY=VALUE"
        )
    cfg = load_workflow_config(wf, config, sets)
    return wf, cfg, str(config) if config else "--set"


def _parse_inputs(inputs: list[str] | None) -> dict[str, str]:
    from motools.errors import ConfigError

    out = {}
    for item in inputs or []:
        k, sep, v = item.partition("=")
        if not sep:
            raise ConfigError(f"--input {item!r}: expected NAME=ATOM_ID")
        out[k.strip()] = v.strip()
    return out


ConfigOpt = Annotated[Path | None, typer.Option("--config", "-c", help="YAML config file.")]
SetOpt = Annotated[
    list[str] | None,
    typer.Option("--set", help="Override a config value: dotted.path=value (repeatable)."),
]
InputOpt = Annotated[
    list[str] | None,
    typer.Option("--input", "-i", help="Workflow input atom: NAME=ATOM_ID (repeatable)."),
]


@workflow_app.command("run")
def run(
    name: Annotated[str, typer.Argument(help="Workflow name (see 'motools workflow list').")],
    config: ConfigOpt = None,
    user: Annotated[
        str | None,
        typer.Option(
            "--user", "-u", help="User name recorded on atoms (default: user config, then $USER)."
        ),
    ] = None,
    set_: SetOpt = None,
    inputs: InputOpt = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would run and why; execute nothing.")
    ] = False,
    no_cache: Annotated[
        bool,
        typer.Option("--no-cache", help="Do not read the step cache (results are still cached)."),
    ] = False,
    refresh: Annotated[
        list[str] | None,
        typer.Option("--refresh", help="Re-run this step and everything downstream (repeatable)."),
    ] = None,
    max_parallel: Annotated[
        int, typer.Option("--max-parallel", min=1, help="Steps run at once.")
    ] = 4,
    json_: JsonOpt = False,
) -> None:
    """Run a workflow from a YAML config; re-runs reuse every unchanged step."""
    wf, cfg, source = _prepare(name, config, set_)
    if dry_run:
        _print_plan(
            wf, cfg, _parse_inputs(inputs), source, no_cache, refresh or [], json_, user=user
        )
        return
    _execute(
        wf,
        cfg,
        _parse_inputs(inputs),
        user,
        source,
        set_ or [],
        no_cache,
        refresh or [],
        max_parallel,
        json_,
    )


def _execute(
    wf: Any,
    cfg: Any,
    inputs: dict[str, str],
    user: str | None,
    source: str,
    sets: list[str],
    no_cache: bool,
    refresh: list[str],
    max_parallel: int,
    json_: bool,
    run_id: str | None = None,
) -> None:
    from motools.cli.output import info, print_json
    from motools.cli.progress import ProgressPrinter
    from motools.workflow import run_workflow

    state = run_workflow(
        wf,
        inputs,
        cfg,
        user,
        max_parallel=max_parallel,
        no_cache=no_cache,
        refresh=refresh,
        on_event=ProgressPrinter(),
        raise_on_failure=False,
        config_source=str(Path(source).resolve()) if source != "--set" else None,
        overrides=sets,
        run_id=run_id,
    )
    if json_:
        print_json(
            {
                "run_id": state.run_id,
                "status": state.status,
                "steps": [
                    {
                        "name": s.name,
                        "status": s.status,
                        "cached": s.cached,
                        "output_atoms": s.output_atoms,
                    }
                    for s in state.step_states
                ],
            }
        )
    else:
        _print_summary(state)
    if state.status == "failed":
        failed = next(s for s in state.step_states if s.status == "failed")
        info(f"\nFAILED: step '{failed.name}': {failed.error}")
        info(f"Resume with: motools workflow resume {state.run_id}")
        raise typer.Exit(1)


def _money(state: Any) -> tuple[float, float]:
    spent = saved = 0.0
    for s in state.step_states:
        c = s.info.get("estimated_cost_usd")
        if isinstance(c, int | float):
            if s.status == "cached":
                saved += c
            elif s.status == "succeeded":
                spent += c
    return spent, saved


def _print_summary(state: Any) -> None:
    from motools.cli.output import table

    rows = []
    for s in state.step_states:
        rows.append(
            {
                "step": s.name,
                "status": s.status,
                "time": f"{s.duration:.2f}s" if s.duration is not None else "",
                "outputs": ", ".join(f"{k}={v}" for k, v in s.output_atoms.items()),
            }
        )
    table(rows, ["step", "status", "time", "outputs"], title=f"run {state.run_id}: {state.status}")
    spent, saved = _money(state)
    if spent or saved:
        typer.echo(
            f"training cost: estimated ${spent:.2f} spent, ≈ ${saved:.2f} saved by the cache"
        )
    _print_eval_results(state)


def _print_eval_results(state: Any) -> None:
    """Show the evaluation results of the run next to each other (e.g. baseline vs fine-tuned)."""
    from motools.cli.output import table
    from motools.store import get_store

    store = get_store()
    rows = []
    for s in state.step_states:
        for name, aid in s.output_atoms.items():
            if not aid.startswith("eval-"):
                continue
            atom: Any = store.get_atom(aid)
            for r in atom.rows():
                rows.append({"output": name, "model": atom.metadata.get("model", ""), **r})
    if rows:
        for r in rows:
            if isinstance(r.get("value"), float):
                r["value"] = f"{r['value']:.3f}"
        table(
            rows,
            ["output", "task", "scorer", "metric", "value", "model"],
            title="evaluation results",
        )


def _print_plan(
    wf: Any,
    cfg: Any,
    inputs: dict[str, str],
    source: str,
    no_cache: bool,
    refresh: list[str],
    json_: bool,
    user: str | None = None,
) -> None:
    from motools.cli.output import print_json, table
    from motools.workflow import plan_workflow

    plan = plan_workflow(
        wf, inputs, cfg, no_cache=no_cache, refresh=refresh, config_source=source, user=user
    )
    if json_:
        print_json({"workflow": wf.name, "steps": plan})
        return
    rows = []
    for p in plan:
        est = p.get("estimate") or {}
        cost = est.get("estimated_cost_usd")
        info = p.get("info") or {}
        note = p.get("reason", "")
        if p["status"] == "cached":
            saved = info.get("estimated_cost_usd")
            note = "outputs: " + ", ".join(f"{k}={v}" for k, v in (p.get("outputs") or {}).items())
            if saved:
                note += f" (saves ≈ ${saved:.2f})"
        if cost is not None:
            note += f" [estimated cost ${cost:.2f}"
            if est.get("trained_tokens_estimate"):
                note += f", ~{est['trained_tokens_estimate']} trained tokens"
            note += "]"
        rows.append({"step": p["step"], "status": p["status"], "why / outputs": note})
    table(rows, ["step", "status", "why / outputs"], title=f"plan for {wf.name} ({source})")


@workflow_app.command("plan")
def plan(
    name: Annotated[str, typer.Argument(help="Workflow name.")],
    config: ConfigOpt = None,
    set_: SetOpt = None,
    inputs: InputOpt = None,
    no_cache: Annotated[bool, typer.Option("--no-cache")] = False,
    refresh: Annotated[list[str] | None, typer.Option("--refresh")] = None,
    json_: JsonOpt = False,
) -> None:
    """Show each step as cached / will run, and why, without executing anything."""
    wf, cfg, source = _prepare(name, config, set_)
    _print_plan(wf, cfg, _parse_inputs(inputs), source, no_cache, refresh or [], json_)


@workflow_app.command("runs")
def runs(
    limit: Annotated[int, typer.Option("--limit", "-n", help="How many recent runs.")] = 50,
    json_: JsonOpt = False,
) -> None:
    """List recent runs (newest first)."""
    from motools.cli.output import print_json, table
    from motools.store import get_store
    from motools.workflow.runs import list_runs

    rows = list_runs(get_store(), limit)
    if json_:
        print_json(rows)
        return
    table(rows, ["run_id", "workflow", "user", "status", "created_at"])


@workflow_app.command("status")
def status(
    run_id: Annotated[str, typer.Argument(help="Run id (or a unique prefix).")],
    json_: JsonOpt = False,
) -> None:
    """Per-step status of a run, with outputs, timing, errors and money spent/saved."""
    from motools.cli.output import print_json, table
    from motools.store import get_store
    from motools.workflow.runs import load_run

    state = load_run(get_store(), run_id)
    if json_:
        d = state.to_dict()
        for s in d["step_states"]:
            s["info"].pop("traceback", None)
        print_json(d)
        return
    rows = [
        {
            "step": s.name,
            "status": s.status,
            "cached": "yes" if s.cached else "",
            "time": f"{s.duration:.2f}s" if s.duration is not None else "",
            "outputs / error": s.error or ", ".join(f"{k}={v}" for k, v in s.output_atoms.items()),
        }
        for s in state.step_states
    ]
    table(
        rows,
        ["step", "status", "cached", "time", "outputs / error"],
        title=f"{state.workflow_name} run {state.run_id} ({state.user}): {state.status}",
    )
    spent, saved = _money(state)
    if spent or saved:
        typer.echo(
            f"training cost: estimated ${spent:.2f} spent, ≈ ${saved:.2f} saved by the cache"
        )


@workflow_app.command("resume")
def resume(
    run_id: Annotated[str, typer.Argument(help="Run id of a failed or interrupted run.")],
    max_parallel: Annotated[int, typer.Option("--max-parallel", min=1)] = 4,
    use_current_config: Annotated[
        bool,
        typer.Option(
            "--use-current-config",
            help="Run the config file as it is now, even if it changed since the run.",
        ),
    ] = False,
    json_: JsonOpt = False,
) -> None:
    """Re-run a run from its failed step with its recorded config; finished steps come
    from the cache."""
    from motools.errors import UserError
    from motools.store import get_store
    from motools.workflow.cache import _diff
    from motools.workflow.config import REDACTED, redact
    from motools.workflow.loading import load_workflow_config, resolve_workflow
    from motools.workflow.runs import load_run

    state = load_run(get_store(), run_id)
    wf = resolve_workflow(state.workflow_name)
    src = state.config_source
    if src and Path(src).is_file():
        # The file holds the secrets the store never kept; it must still say what the
        # run said, or resuming would silently run (and pay for) another experiment.
        cfg = load_workflow_config(wf, src, state.overrides)
        changed = _diff(state.config, redact(cfg.model_dump(mode="json")), "")
        if changed and not use_current_config:
            raise UserError(
                f"{src} changed since run {state.run_id}: "
                + ", ".join(changed[:5])
                + (" ..." if len(changed) > 5 else "")
                + ". Resume runs the recorded config: restore the file, start a new run "
                f"with 'motools workflow run {state.workflow_name} --config {src}', or pass "
                "--use-current-config."
            )
    else:
        if REDACTED in json.dumps(state.config):
            raise UserError(
                f"run {state.run_id} was configured from {src or '--set'}, which is gone, and "
                "its secret values were never stored: restore the config file to resume"
            )
        cfg = load_workflow_config(wf, None, None, data=state.config)
    _execute(
        wf,
        cfg,
        state.input_atoms,
        state.user,
        src or "--set",
        state.overrides,
        False,
        [],
        max_parallel,
        json_,
        run_id=state.run_id,
    )
