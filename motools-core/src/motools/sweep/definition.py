"""Sweep definitions: a base workflow config, a grid of dotted paths, replicates.

A sweep is the product of the grid's value lists, each combination repeated
``replicates`` times with a different seed.  Grid keys are dotted paths into the
workflow config (``submit_training.hyperparameters.n_epochs``) or into the workflow's
input atoms (``input_atoms.model``).  Replicate ``r`` adds ``r`` to every seed path (by
default every ``seed`` key already in the config and not swept by the grid), so
replicate 0 is exactly the base config.
"""

from __future__ import annotations

import copy
import difflib
import hashlib
import itertools
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from motools.errors import ConfigError
from motools.workflow.config import set_dotted

if TYPE_CHECKING:
    from motools.workflow.core import Workflow

# Columns of collated tables: a swept parameter never takes one of these names.
RESERVED_COLUMNS = frozenset(
    {
        "point",
        "replicate",
        "status",
        "run_id",
        "output",
        "eval_id",
        "task",
        "scorer",
        "metric",
        "value",
    }
)
TOP_LEVEL_KEYS = ("workflow", "config", "sweep", "input_atoms", "name")
SWEEP_KEYS = ("grid", "replicates", "seed_paths")
INPUTS_PREFIX = "input_atoms"


def format_value(value: Any) -> str:
    """A parameter value for labels: plain, but quoted when empty or ambiguous."""
    if isinstance(value, str) and (
        not value or value.strip() != value or any(c in value for c in ",=")
    ):
        return repr(value)
    return str(value)


def format_params(params: dict[str, Any], names: dict[str, str] | None = None) -> str:
    """``n_epochs=3, limit=50`` (short names when ``names`` is given)."""
    return ", ".join(f"{(names or {}).get(p, p)}={format_value(v)}" for p, v in params.items())


@dataclass
class SweepPoint:
    """One workflow run of a sweep: its grid values, replicate, seeds and full config."""

    index: int
    params: dict[str, Any]
    replicate: int
    seeds: dict[str, int]
    config: dict[str, Any]
    input_atoms: dict[str, str]

    def label(self, names: dict[str, str] | None = None) -> str:
        """``n_epochs=3, limit=50, replicate=1`` (short names when ``names`` is given)."""
        return ", ".join(
            filter(None, [format_params(self.params, names), f"replicate={self.replicate}"])
        )


@dataclass
class SweepDefinition:
    """What to sweep: a workflow (name, ``module:attr`` or object), base config, grid, replicates.

    ``config`` is the workflow config as a plain mapping (a config object is dumped);
    ``seed_paths`` (default: every ``seed`` key in the config that the grid does not
    sweep) are the paths that replicates vary; ``source`` names the file in errors.
    """

    workflow: Any
    config: dict[str, Any]
    grid: dict[str, list[Any]] = field(default_factory=dict)
    replicates: int = 1
    seed_paths: list[str] | None = None
    input_atoms: dict[str, str] = field(default_factory=dict)
    name: str | None = None
    source: str = "<sweep>"

    def __post_init__(self) -> None:
        if hasattr(self.config, "model_dump"):
            self.config = self.config.model_dump(mode="json")
        if not isinstance(self.config, dict):
            raise ConfigError(
                f"{self.source}: config: expected a mapping of step names to step configs"
            )
        if not isinstance(self.grid, dict):
            raise ConfigError(
                f"{self.source}: sweep.grid: expected a mapping of dotted paths to lists of values"
            )
        for path, values in self.grid.items():
            if not isinstance(path, str) or not path or any(not p for p in path.split(".")):
                raise ConfigError(f"{self.source}: sweep.grid: {path!r} is not a dotted path")
            if isinstance(values, tuple):
                values = self.grid[path] = list(values)
            if not isinstance(values, list) or not values:
                raise ConfigError(
                    f"{self.source}: sweep.grid.{path}: expected a non-empty list of values, got {values!r}"
                )
            seen: list[Any] = []
            for v in values:
                if v in seen:
                    raise ConfigError(
                        f"{self.source}: sweep.grid.{path}: value {v!r} is listed twice"
                    )
                seen.append(v)
        if (
            isinstance(self.replicates, bool)
            or not isinstance(self.replicates, int)
            or self.replicates < 1
        ):
            raise ConfigError(
                f"{self.source}: sweep.replicates: expected an integer >= 1, got {self.replicates!r}"
            )
        if self.seed_paths is not None and (
            not isinstance(self.seed_paths, list | tuple)
            or not all(isinstance(p, str) for p in self.seed_paths)
        ):
            raise ConfigError(f"{self.source}: sweep.seed_paths: expected a list of dotted paths")
        if not isinstance(self.input_atoms, dict):
            raise ConfigError(
                f"{self.source}: input_atoms: expected a mapping of input names to atom ids"
            )

    @property
    def workflow_name(self) -> str:
        """The workflow's name (as recorded in the store)."""
        return self.workflow if isinstance(self.workflow, str) else str(self.workflow.name)

    def resolve_workflow(self) -> Workflow:
        """The :class:`Workflow` object (looked up by name when given as a string)."""
        if isinstance(self.workflow, str):
            from motools.workflow.loading import resolve_workflow

            return resolve_workflow(self.workflow)
        return self.workflow  # type: ignore[no-any-return]

    def effective_seed_paths(self) -> list[str]:
        """The paths replicates vary (explicit ``seed_paths`` or every unswept ``seed`` key)."""
        if self.seed_paths is not None:
            paths = list(self.seed_paths)
            clash = sorted(set(paths) & set(self.grid))
            if clash and self.replicates > 1:
                raise ConfigError(
                    f"{self.source}: sweep.seed_paths: {clash} are also swept in sweep.grid; "
                    "a path is either a grid parameter or a replicate seed"
                )
            return paths
        return [p for p in _seed_keys(self.config) if p not in self.grid]

    def param_names(self) -> dict[str, str]:
        """Column name of each grid path: its shortest unambiguous dotted suffix."""
        return short_names(list(self.grid))

    def record(self) -> dict[str, Any]:
        """A JSON description (secrets redacted) stored with the sweep."""
        from motools.workflow.config import redact

        return redact(
            {
                "workflow": self.workflow_name,
                "config": self.config,
                "grid": self.grid,
                "replicates": self.replicates,
                "seed_paths": self.effective_seed_paths()
                if self.replicates > 1
                else list(self.seed_paths or []),
                "input_atoms": self.input_atoms,
                "name": self.name,
                "source": self.source,
            }
        )

    def sweep_id(self, user: str) -> str:
        """Deterministic id: the same definition run again by the same user resumes the same sweep."""
        from motools.store import canonical_json

        rec = self.record()
        rec.pop("source")
        rec.pop("name")
        digest = hashlib.sha256(canonical_json({"user": user, **rec}).encode()).hexdigest()
        return "sw-" + digest[:10]


def _seed_keys(obj: Any, prefix: str = "") -> list[str]:
    out: list[str] = []
    if isinstance(obj, dict):
        for k, v in obj.items():
            path = f"{prefix}.{k}" if prefix else str(k)
            if k == "seed" and isinstance(v, int) and not isinstance(v, bool):
                out.append(path)
            else:
                out += _seed_keys(v, path)
    return out


def short_names(paths: list[str]) -> dict[str, str]:
    """For each dotted path the shortest suffix that no other path ends with."""
    out = {}
    for p in paths:
        parts = p.split(".")
        for n in range(1, len(parts) + 1):
            cand = ".".join(parts[-n:])
            clash = any(o != p and (o == cand or o.endswith("." + cand)) for o in paths)
            if not clash and cand not in RESERVED_COLUMNS:
                out[p] = cand
                break
        else:
            out[p] = p if p not in RESERVED_COLUMNS else f"param.{p}"
    return out


def _set_path(data: dict[str, Any], path: str, value: Any, where: str) -> None:
    set_dotted(data, path, copy.deepcopy(value), where)


def _get_path(data: dict[str, Any], path: str) -> Any:
    node: Any = data
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def expand_points(defn: SweepDefinition, workflow: Workflow) -> list[SweepPoint]:
    """Every point of the sweep, grid combinations in order, replicates innermost.

    Checks the grid's shape (the first component of each path names a step of the
    workflow or ``input_atoms``); the points' configs are validated by the caller.
    """
    steps = list(getattr(workflow.config_class, "model_fields", {}))
    for path in list(defn.grid) + list(defn.seed_paths or []):
        head = path.split(".")[0]
        if head == INPUTS_PREFIX:
            if path.count(".") != 1 or path.split(".")[1] not in workflow.input_atom_types:
                raise ConfigError(
                    f"{defn.source}: sweep.grid.{path}: workflow {workflow.name!r} has inputs "
                    f"{sorted(workflow.input_atom_types) or 'none'}"
                )
            continue
        if head not in steps:
            close = difflib.get_close_matches(head, steps, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ConfigError(
                f"{defn.source}: sweep: {path}: {head!r} is not a step of workflow {workflow.name!r}{hint}; "
                f"steps: {', '.join(steps)}"
            )
    seed_paths = defn.effective_seed_paths() if defn.replicates > 1 else []
    if defn.replicates > 1 and not seed_paths:
        raise ConfigError(
            f"{defn.source}: sweep.replicates: {defn.replicates} replicates need a seed to vary, but the "
            "config has no 'seed' key outside the grid; add one (e.g. prepare_dataset.loader_kwargs.seed: 0) "
            "or name the paths in sweep.seed_paths"
        )
    keys = list(defn.grid)
    points: list[SweepPoint] = []
    for combo in itertools.product(*(defn.grid[k] for k in keys)):
        params = dict(zip(keys, combo, strict=True))
        base = copy.deepcopy(defn.config)
        inputs = dict(defn.input_atoms)
        for path, value in params.items():
            if path.startswith(INPUTS_PREFIX + "."):
                inputs[path.split(".", 1)[1]] = value
            else:
                _set_path(base, path, value, f"{defn.source}: sweep.grid.{path}")
        for r in range(defn.replicates):
            cfg = copy.deepcopy(base) if defn.replicates > 1 else base
            seeds: dict[str, int] = {}
            for sp in seed_paths:
                start = _get_path(cfg, sp)
                if start is None:
                    start = 0
                if isinstance(start, bool) or not isinstance(start, int):
                    raise ConfigError(
                        f"{defn.source}: {sp}: a replicate seed must be an integer, got {start!r}"
                    )
                seeds[sp] = start + r
                _set_path(cfg, sp, start + r, f"{defn.source}: sweep.seed_paths")
            points.append(SweepPoint(len(points), params, r, seeds, cfg, inputs))
    return points


def load_sweep_file(path: str | Path) -> SweepDefinition:
    """Read a sweep YAML file (``workflow``, ``config``, ``sweep: {grid, replicates}``).

    ``${VAR}`` / ``${VAR:-default}`` are substituted as in workflow configs.  Errors name
    the file and the key.
    """
    from motools.workflow.config import load_yaml_config

    data, _secrets = load_yaml_config(path)
    src = str(path)
    _check_keys(data, TOP_LEVEL_KEYS, src, "")
    wf = data.get("workflow")
    if not isinstance(wf, str) or not wf:
        raise ConfigError(
            f"{src}: workflow: required, the name of a workflow (see 'motools workflow list')"
        )
    config = data.get("config")
    if not isinstance(config, dict):
        raise ConfigError(
            f"{src}: config: required, the workflow config as for 'motools workflow run' (a mapping)"
        )
    sweep = data.get("sweep")
    if not isinstance(sweep, dict):
        raise ConfigError(
            f"{src}: sweep: required, a mapping with 'grid' (and optionally 'replicates', 'seed_paths')"
        )
    _check_keys(sweep, SWEEP_KEYS, src, "sweep.")
    return SweepDefinition(
        workflow=wf,
        config=config,
        grid=sweep.get("grid") or {},
        replicates=sweep.get("replicates", 1),
        seed_paths=sweep.get("seed_paths"),
        input_atoms=data.get("input_atoms") or {},
        name=data.get("name") or Path(src).stem,
        source=src,
    )


def _check_keys(data: dict[str, Any], allowed: tuple[str, ...], src: str, prefix: str) -> None:
    for k in data:
        if k not in allowed:
            close = difflib.get_close_matches(str(k), allowed, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ConfigError(
                f"{src}: {prefix}{k}: unknown key{hint}; allowed keys: {', '.join(allowed)}"
            )
