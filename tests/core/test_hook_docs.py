"""Meta-tests (datasette style): every hook spec is documented and tested."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

from motools import hookspecs

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "plugins.md"


def _hook_specs() -> dict[str, inspect.Signature]:
    return {
        name: inspect.signature(fn)
        for name, fn in vars(hookspecs).items()
        if callable(fn) and hasattr(fn, "motools_spec")
    }


def _documented_hooks() -> dict[str, list[str]]:
    """``{hook: [argument names]}`` from the ``### hook(args)`` headings of the hook reference."""
    text = DOC.read_text(encoding="utf-8")
    m = re.search(r"^## Hook reference\s*$(.*?)(?=^## |\Z)", text, re.M | re.S)
    assert m, f"{DOC} has no '## Hook reference' section"
    out = {}
    for name, args in re.findall(r"^###\s+`?(\w+)\(([^)]*)\)`?\s*$", m.group(1), re.M):
        out[name] = [
            a.strip().split(":")[0].split("=")[0].strip() for a in args.split(",") if a.strip()
        ]
    return out


def test_hookspecs_are_found() -> None:
    assert set(_hook_specs()) == {
        "register_atom_types",
        "register_training_backends",
        "register_eval_backends",
        "register_workflows",
        "register_datasets",
        "register_commands",
    }


@pytest.mark.parametrize("hook", sorted(_hook_specs()))
def test_hook_is_documented_with_its_signature(hook: str) -> None:
    documented = _documented_hooks()
    assert hook in documented, (
        f"{hook} has no '### {hook}(...)' heading in {DOC.name}'s hook reference"
    )
    assert documented[hook] == list(_hook_specs()[hook].parameters), (
        f"{DOC.name} documents {hook}({', '.join(documented[hook])}), "
        f"but the spec is {hook}{_hook_specs()[hook]}"
    )


def test_no_documented_hook_is_missing_from_hookspecs() -> None:
    assert set(_documented_hooks()) <= set(_hook_specs())


@pytest.mark.parametrize("hook", sorted(_hook_specs()))
def test_hook_has_a_test_naming_it(hook: str) -> None:
    names = set()
    for path in (ROOT / "tests").rglob("test_*.py"):
        names |= set(
            re.findall(r"^\s*(?:async\s+)?def (test_\w+)", path.read_text(encoding="utf-8"), re.M)
        )
    # this file's parametrised tests do not count
    named = [n for n in names if hook in n and not n.startswith("test_hook_")]
    assert named, f"no test function has {hook!r} in its name"
