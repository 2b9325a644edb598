"""Task references: ``"module:function"``, an Inspect registry name, or a task file.

``parse_task_ref`` turns the string of a step config into a :class:`TaskRef` and checks
what can be checked without importing Inspect or running the task's module: that the
module can be found and defines the name, that the file exists (and defines the
``@name``), that an Inspect extension package of that name is installed.
"""

from __future__ import annotations

import ast
import importlib.util
import os
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from motools.errors import ConfigError

_MODULE_REF = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")
_REGISTRY_NAME = re.compile(r"^[A-Za-z_][\w.-]*/[A-Za-z_][\w.-]*$")
_FILE_SUFFIXES = (".py", ".ipynb", ".yaml", ".yml")

FORMS = "'module:function' (e.g. mozoo.tasks.gsm8k_language:gsm8k_spanish), a registry name ('mozoo/gsm8k_spanish') or a task file ('tasks.py', 'tasks.py@name')"


@dataclass(frozen=True)
class TaskRef:
    """A parsed task reference; ``kind`` is ``module``, ``file`` or ``registry``.

    ``target`` is the module name, the absolute file path or the registry name;
    ``name`` is the function (module) or the ``@name`` inside a file (optional).
    """

    kind: str
    target: str
    name: str | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def parse_task_ref(ref: Any, where: str = "eval_task", check: bool = True) -> TaskRef:
    """Parse ``ref``; with ``check``, raise :class:`ConfigError` when it cannot resolve."""
    if not isinstance(ref, str) or not ref.strip():
        raise ConfigError(f"{where}: expected a task reference: {FORMS}")
    ref = ref.strip()
    if _MODULE_REF.match(ref):
        module, _, fn = ref.partition(":")
        task = TaskRef("module", module, fn)
        if check:
            _check_module(task, where)
        return task
    path_part, _, at_name = ref.partition("@")
    looks_like_file = path_part.endswith(_FILE_SUFFIXES) or Path(path_part).expanduser().exists()
    if not looks_like_file and _REGISTRY_NAME.match(ref):
        task = TaskRef("registry", ref)
        if check:
            _check_registry(task, where)
        return task
    if looks_like_file or os.sep in path_part or "/" in path_part:
        path = Path(path_part).expanduser().resolve()
        task = TaskRef("file", str(path), at_name or None)
        if check:
            _check_file(task, ref, where)
        return task
    raise ConfigError(f"{where}: {ref!r} is not a task reference; expected {FORMS}")


def _check_module(task: TaskRef, where: str) -> None:
    try:
        spec = importlib.util.find_spec(task.target)
    except Exception as e:  # a parent package that fails to import
        raise ConfigError(
            f"{where}: cannot import module {task.target!r} ({type(e).__name__}: {e})"
        ) from None
    if spec is None:
        raise ConfigError(
            f"{where}: no module named {task.target!r} (is the package that provides it installed?)"
        )
    origin = spec.origin
    if origin and origin.endswith(".py") and Path(origin).is_file():
        names, tasks, star = _top_level_names(Path(origin))
        if not star and task.name not in names:
            raise ConfigError(
                f"{where}: module {task.target!r} ({origin}) defines no {task.name!r}; "
                f"its @task functions: {tasks or 'none'}"
            )


def _check_file(task: TaskRef, ref: str, where: str) -> None:
    path = Path(task.target)
    if not path.exists():
        raise ConfigError(f"{where}: task file {ref!r} does not exist (resolved to {path})")
    if task.name and path.suffix == ".py":
        names, tasks, star = _top_level_names(path)
        if not star and task.name not in names:
            raise ConfigError(
                f"{where}: {path} defines no task {task.name!r}; its @task functions: {tasks or 'none'}"
            )


def _check_registry(task: TaskRef, where: str) -> None:
    from importlib.metadata import entry_points

    package = task.target.split("/", 1)[0]
    installed = sorted({ep.name for ep in entry_points(group="inspect_ai")})
    if package not in installed:
        raise ConfigError(
            f"{where}: no installed Inspect extension package {package!r} provides {task.target!r}; "
            f"installed: {installed or 'none'}"
        )


def _top_level_names(path: Path) -> tuple[set[str], list[str], bool]:
    """(names defined at module level, names of @task functions, has a star import)."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    except (SyntaxError, UnicodeDecodeError, OSError) as e:
        raise ConfigError(f"cannot read task file {path}: {e}") from None
    names: set[str] = set()
    tasks: list[str] = []
    star = False
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
            if any(_decorator_name(d) == "task" for d in getattr(node, "decorator_list", [])):
                tasks.append(node.name)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            for alias in node.names:
                if alias.name == "*":
                    star = True
                names.add((alias.asname or alias.name).split(".")[0])
        elif isinstance(node, ast.If | ast.Try):
            star = True  # conditional definitions: do not guess
    return names, tasks, star


def _decorator_name(node: ast.expr) -> str:
    if isinstance(node, ast.Call):
        node = node.func
    if isinstance(node, ast.Attribute):
        return node.attr
    return node.id if isinstance(node, ast.Name) else ""
