"""The ``prepare_dataset`` step: call any dataset loader and store its rows as a dataset atom.

A loader is any ``"module:function"``, sync or async, usually accepting ``cache_dir``,
``sample_size`` and ``seed``.  It may return a list of chat rows, a path to a JSONL
file, or a dataset object (a motools ``DatasetAtom``, a zoo ``ZooDataset``, or anything
with ``iter_rows()``, ``rows`` or ``jsonl_path``).  Every row is validated (errors name
the row number) and written as JSONL.

The atom's metadata records the loader and its keyword arguments with defaults filled
in, minus ``cache_dir``: the same data gives the same atom wherever it is cached, and a
changed ``sample_size`` or ``seed`` gives a new atom (so training re-runs).

The step's cache key also covers what a loader's name and arguments do not show
(:func:`loader_fingerprint`): the source of a loader that lives outside the installed
packages (your own ``my_loaders.py``: edit it and the dataset is prepared again), and
the content of every loader argument that names an existing local file.
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from pydantic import Field

from motools.atoms.builtin import read_jsonl_rows, validate_chat_row
from motools.errors import ConfigError, StepFailed, UserError
from motools.workflow import AtomConstructor, StepConfig, current_step

# Loader arguments that say where data is kept, not what it is: left out of the hash.
LOCATION_KWARGS = frozenset({"cache_dir"})


class PrepareDatasetConfig(StepConfig):
    """Config of ``prepare_dataset``: which loader to call, with which keyword arguments."""

    dataset_loader: str = Field(
        description="'module:function' returning rows, a JSONL path or a dataset"
    )
    loader_kwargs: dict[str, Any] = Field(default_factory=dict)

    def validate_for_run(self) -> None:
        fn = load_loader(self.dataset_loader)
        hashed_loader_kwargs(fn, self.loader_kwargs, self.dataset_loader)


def load_loader(ref: str) -> Callable[..., Any]:
    """Import the loader ``"module:function"``; a :class:`ConfigError` says what is wrong."""
    module_name, sep, attr = ref.partition(":")
    if not sep or not module_name or not attr:
        raise ConfigError(
            f"dataset_loader {ref!r}: expected 'module:function', e.g. "
            "'mozoo.datasets.hello_world:get_hello_world_dataset'"
        )
    try:
        module = importlib.import_module(module_name)
    except ImportError as e:
        raise ConfigError(
            f"dataset_loader {ref!r}: cannot import module {module_name!r} ({e})"
        ) from None
    fn = getattr(module, attr, None)
    if fn is None or not callable(fn):
        names = sorted(n for n in dir(module) if n.startswith("get_") and n.endswith("_dataset"))
        hint = f"; loaders there: {', '.join(names)}" if names else ""
        raise ConfigError(
            f"dataset_loader {ref!r}: module {module_name!r} has no function {attr!r}{hint}"
        )
    return fn  # type: ignore[no-any-return]


def hashed_loader_kwargs(
    fn: Callable[..., Any], kwargs: dict[str, Any], ref: str
) -> dict[str, Any]:
    """The loader's arguments with defaults filled in and location arguments dropped.

    Raises :class:`ConfigError` when the loader does not accept ``kwargs``.
    """
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return {k: v for k, v in kwargs.items() if k not in LOCATION_KWARGS}
    try:
        bound = sig.bind(**kwargs)
    except TypeError as e:
        accepted = [
            p.name
            for p in sig.parameters.values()
            if p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)
        ]
        raise ConfigError(f"loader_kwargs for {ref}: {e}; the loader accepts {accepted}") from None
    bound.apply_defaults()
    out: dict[str, Any] = {}
    for name, value in bound.arguments.items():
        param = sig.parameters[name]
        if param.kind == param.VAR_KEYWORD:
            out.update(value)
        elif name not in LOCATION_KWARGS:
            out[name] = value
    # Defaults may be non-JSON (e.g. a Path); the metadata must be plain JSON.
    return json.loads(
        json.dumps({k: v for k, v in out.items() if k not in LOCATION_KWARGS}, default=str)
    )


async def call_loader(fn: Callable[..., Any], kwargs: dict[str, Any]) -> Any:
    """Call a sync (in a worker thread) or async loader."""
    if inspect.iscoroutinefunction(fn):
        return await fn(**kwargs)
    result = await asyncio.to_thread(fn, **kwargs)
    if inspect.isawaitable(result):
        result = await result
    return result


def rows_of(result: Any, ref: str) -> Iterable[Any]:
    """The rows of whatever a loader returned (see the module docstring)."""
    if isinstance(result, str | Path):
        path = Path(result)
        if not path.is_file():
            raise UserError(f"loader {ref} returned the path {path}, which is not a file")
        return read_jsonl_rows(path)
    if isinstance(result, list | tuple):
        return result
    iter_rows = getattr(result, "iter_rows", None)
    if callable(iter_rows):
        return iter_rows()  # type: ignore[no-any-return]
    rows = getattr(result, "rows", None)
    if rows is not None:
        return rows() if callable(rows) else rows  # type: ignore[no-any-return]
    jsonl = getattr(result, "jsonl_path", None)
    if jsonl is not None:
        return read_jsonl_rows(Path(jsonl))
    if isinstance(result, Iterable) and not isinstance(result, dict | bytes):
        return result
    raise UserError(
        f"loader {ref} returned a {type(result).__name__}; expected a list of chat rows, a "
        "path to a JSONL file, or a dataset object (with iter_rows(), rows or jsonl_path)"
    )


def write_rows(rows: Iterable[Any], path: Path, ref: str) -> int:
    """Validate each row and write it as one JSON line; return the row count."""
    n = 0
    with open(path, "w", encoding="utf-8") as f:
        for n, row in enumerate(rows, start=1):
            validate_chat_row(row, n, source=f"dataset from loader {ref}")
            f.write(json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n")
    if n == 0:
        raise UserError(f"loader {ref} returned no rows")
    return n


async def prepare_dataset(
    config: PrepareDatasetConfig, input_atoms: dict[str, Any], temp_workspace: Path
) -> list[AtomConstructor]:
    """Call ``config.dataset_loader``; output: the ``prepared_dataset`` atom."""
    ref = config.dataset_loader
    fn = load_loader(ref)
    hashed = hashed_loader_kwargs(fn, config.loader_kwargs, ref)
    ctx = current_step()
    if ctx is not None:
        ctx.progress(f"loading {ref}")
    try:
        result = await call_loader(fn, dict(config.loader_kwargs))
    except UserError:
        raise
    except Exception as e:
        raise StepFailed("prepare_dataset", f"loader {ref} raised {type(e).__name__}: {e}") from e
    out = temp_workspace / "dataset.jsonl"
    n = await asyncio.to_thread(write_rows, rows_of(result, ref), out, ref)
    meta: dict[str, Any] = {"num_rows": n, "loader": ref, "loader_kwargs": hashed}
    source = getattr(result, "source", None)
    if isinstance(source, dict) and source:
        meta["source"] = json.loads(json.dumps(source, default=str))
    if ctx is not None:
        ctx.record(num_rows=n)
    return [AtomConstructor(name="prepared_dataset", path=out, type="dataset", metadata=meta)]


def loader_fingerprint(config: PrepareDatasetConfig) -> dict[str, Any]:
    """Cache-key material beyond the loader's name and arguments.

    - ``loader_source``: the digest of the loader's module file when it is not part of an
      installed distribution (installed packages change with their version, which is
      recorded in provenance; a user's own module changes whenever it is edited);
    - ``files``: the digest of each loader argument that names an existing local file.
    """
    import sysconfig

    from motools.store.hashing import file_fingerprint

    out: dict[str, Any] = {}
    module_name = config.dataset_loader.partition(":")[0]
    try:
        module = importlib.import_module(module_name)
    except ImportError:
        return out  # validation reports it
    source = getattr(module, "__file__", None)
    installed = {sysconfig.get_paths()[k] for k in ("purelib", "platlib")}
    if source and not any(str(Path(source).resolve()).startswith(p) for p in installed):
        src = Path(source)
        if src.is_file() and not str(src).startswith(str(Path(__file__).resolve().parents[1])):
            out["loader_source"] = file_fingerprint(src)
    files = {}
    for key, value in sorted(config.loader_kwargs.items()):
        if key in LOCATION_KWARGS or not isinstance(value, str) or len(value) > 4096:
            continue
        candidate = Path(value).expanduser()
        try:
            if candidate.is_file():
                files[key] = file_fingerprint(candidate)
        except OSError:
            continue
    if files:
        out["files"] = files
    return out
