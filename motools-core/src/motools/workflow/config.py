"""Typed workflow configuration: pydantic models, YAML, ``${VAR}`` substitution, overrides.

Every config model forbids unknown keys.  Errors become :class:`ConfigError` naming the
file, the dotted path (``submit_training.hyperparameters.n_epochs``) and what was
expected, with a "did you mean" suggestion for misspelt keys.
"""

from __future__ import annotations

import difflib
import os
import re
from pathlib import Path
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, ValidationError

from motools.errors import ConfigError

SECRET_NAME_RE = re.compile(r"(KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL)", re.I)
REDACTED = "***REDACTED***"


class StepConfig(BaseModel):
    """Base class of a step's config: unknown keys are errors."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class WorkflowConfig(BaseModel):
    """Base class of a workflow's config: one field per step, unknown keys are errors."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    @classmethod
    def from_dict(cls, data: dict[str, Any], source: str = "<config>") -> Self:
        """Validate a plain dict; errors name ``source`` and the dotted path."""
        try:
            return cls.model_validate(data)
        except ValidationError as e:
            raise ConfigError(format_validation_error(e, cls, source)) from None

    @classmethod
    def from_yaml(cls, path: str | Path, overrides: list[str] | None = None) -> Self:
        """Load a YAML file with ``${VAR}`` substitution and ``--set`` style overrides."""
        data, _secrets = load_yaml_config(path, schema=cls)
        if overrides:
            data = apply_overrides(data, overrides, cls, str(path))
        return cls.from_dict(data, source=str(path))


# -- YAML and environment ---------------------------------------------------------

_VAR_RE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-(.*?))?\}")


def substitute_env(
    obj: Any,
    source: str,
    path: str = "",
    secrets: set[str] | None = None,
    typed: dict[str, str] | None = None,
) -> Any:
    """Replace ``${VAR}`` / ``${VAR:-default}`` in strings; record secret-looking values.

    A value that is exactly one ``${VAR}`` is parsed as YAML (``"${N:-3}"`` -> ``3``);
    ``typed`` records those values' dotted paths and strings so that a caller knowing the
    schema can keep them as strings where a string is expected.
    """
    if isinstance(obj, dict):
        return {
            k: substitute_env(v, source, f"{path}.{k}" if path else str(k), secrets, typed)
            for k, v in obj.items()
        }
    if isinstance(obj, list):
        return [
            substitute_env(v, source, f"{path}[{i}]", secrets, typed) for i, v in enumerate(obj)
        ]
    if not isinstance(obj, str) or "${" not in obj:
        return obj

    def repl(m: re.Match[str]) -> str:
        name, default = m.group(1), m.group(2)
        val = os.environ.get(name)
        if val is None:
            if default is None:
                raise ConfigError(
                    f"{source}: {path or '<root>'}: environment variable ${{{name}}} is not set "
                    f"(set it, or write ${{{name}:-default}})"
                )
            val = default
        if secrets is not None and SECRET_NAME_RE.search(name) and val:
            secrets.add(val)
        return val

    whole = _VAR_RE.fullmatch(obj)
    out = _VAR_RE.sub(repl, obj)
    if whole is not None:
        import yaml

        try:
            value = yaml.safe_load(out) if out else out
        except yaml.YAMLError:
            return out
        if isinstance(value, int | float | bool) and not isinstance(value, str):
            if typed is not None:
                typed[path] = out
            return value
    return out


def load_yaml_config(
    path: str | Path, schema: type | None = None
) -> tuple[dict[str, Any], set[str]]:
    """Read a YAML mapping with env substitution; return (data, secret values seen).

    With ``schema`` (a config class), substituted values stay strings where the schema
    expects a string (``suffix: ${RUN}`` with ``RUN=007`` is ``"007"``, not ``7``).
    """
    import yaml

    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"config file {p} does not exist")
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except yaml.YAMLError as e:
        raise ConfigError(f"{p}: not valid YAML: {e}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(
            f"{p}: expected a mapping of step names to step configs, got {type(data).__name__}"
        )
    secrets: set[str] = set()
    typed: dict[str, str] = {}
    data = substitute_env(data, str(p), secrets=secrets, typed=typed)
    _SECRETS.update(secrets)
    if schema is not None:
        for dotted, text in typed.items():
            parts = dotted.split(".")
            if "[" not in dotted and _wants_str(_annotation_at(schema, parts)):
                node = data
                for part in parts[:-1]:
                    node = node[part]
                node[parts[-1]] = text
    return data, secrets


# Secret values seen in this process (substituted into configs, or read by a backend):
# redacted wherever motools stores or prints anything.
_SECRETS: set[str] = set()


def add_secret(value: str) -> None:
    """Register a secret value (e.g. an API key a backend read from a variable of any
    name) so that it is redacted from everything motools stores, logs or raises."""
    if value and len(value) >= 4:
        _SECRETS.add(value)


def redact(obj: Any, extra_secrets: set[str] | None = None) -> Any:
    """Copy of ``obj`` with secret values and secret-named keys replaced."""
    return _redact(obj, _SECRETS | _env_secrets() | (extra_secrets or set()))


_env_cache: tuple[int, frozenset[str]] | None = None


def _env_secrets() -> frozenset[str]:
    """Values of secret-looking environment variables (recomputed when the env changes)."""
    global _env_cache
    stamp = hash(frozenset(os.environ.items()))
    if _env_cache is None or _env_cache[0] != stamp:
        vals = frozenset(
            v for k, v in os.environ.items() if SECRET_NAME_RE.search(k) and len(v) >= 8
        )
        _env_cache = (stamp, vals)
    return _env_cache[1]


def _redact(obj: Any, secrets: set[str]) -> Any:
    if isinstance(obj, dict):
        return {
            k: (REDACTED if isinstance(k, str) and _secret_key(k) and v else _redact(v, secrets))
            for k, v in obj.items()
        }
    if isinstance(obj, list | tuple):
        return [_redact(v, secrets) for v in obj]
    if isinstance(obj, str):
        for s in secrets:
            if s and s in obj:
                obj = obj.replace(s, REDACTED)
        return obj
    return obj


def _secret_key(k: str) -> bool:
    k = k.lower()
    return k in {"api_key", "apikey", "token", "secret", "password", "authorization"} or k.endswith(
        ("_api_key", "_token", "_secret", "_password")
    )


# -- overrides --------------------------------------------------------------------


def apply_overrides(
    data: dict[str, Any], overrides: list[str], cls: type | None = None, source: str = "--set"
) -> dict[str, Any]:
    """Apply ``a.b.c=value`` overrides; values are parsed as YAML (typed by the schema later)."""
    import copy

    import yaml

    data = copy.deepcopy(data)
    for ov in overrides:
        key, sep, raw = ov.partition("=")
        if not sep or not key.strip():
            raise ConfigError(
                f"--set {ov!r}: expected KEY=VALUE, e.g. submit_training.hyperparameters.n_epochs=5"
            )
        parts = key.strip().split(".")
        if cls is not None and _wants_str(_annotation_at(cls, parts)):
            value: Any = raw  # typed by the schema: "--set x.suffix=007" stays "007"
        else:
            try:
                value = yaml.safe_load(raw) if raw.strip() else ""
            except yaml.YAMLError:
                value = raw
        set_dotted(data, key.strip(), value, f"--set {ov!r}")
    return data


def set_dotted(data: dict[str, Any], path: str, value: Any, where: str) -> None:
    """Set ``data["a"]["b"]["c"] = value`` for ``path`` "a.b.c", creating mappings on the way."""
    parts = path.split(".")
    node = data
    for i, part in enumerate(parts[:-1]):
        nxt = node.get(part)
        if nxt is None:
            nxt = node[part] = {}
        if not isinstance(nxt, dict):
            raise ConfigError(f"{where}: {'.'.join(parts[: i + 1])} is {nxt!r}, not a mapping")
        node = nxt
    node[parts[-1]] = value


# -- error formatting ----------------------------------------------------------------


def _fields_at(cls: Any, loc: tuple[Any, ...]) -> list[str]:
    """Field names of the model found by walking ``loc`` from ``cls`` (best effort)."""
    model = cls
    for part in loc:
        fields = getattr(model, "model_fields", None)
        if not fields or part not in fields:
            return []
        ann = fields[part].annotation
        model = _model_in(ann)
        if model is None:
            return []
    return list(getattr(model, "model_fields", {}))


def _annotation_at(cls: Any, parts: list[str]) -> Any:
    """The type annotation of the field at ``parts`` below the model ``cls`` (or ``None``)."""
    model = cls
    for i, part in enumerate(parts):
        fields = getattr(model, "model_fields", None)
        if not fields or part not in fields:
            return None
        ann = fields[part].annotation
        if i == len(parts) - 1:
            return ann
        model = _model_in(ann)
        if model is None:
            return None
    return None


def _wants_str(ann: Any) -> bool:
    """Whether a field annotated ``ann`` takes a string and no number or bool."""
    import types
    import typing

    if ann is str:
        return True
    if typing.get_origin(ann) not in (typing.Union, types.UnionType):
        return False
    args = [a for a in typing.get_args(ann) if a is not type(None)]
    return str in args and not any(a in (int, float, bool) for a in args)


def _model_in(ann: Any) -> Any:
    if isinstance(ann, type) and issubclass(ann, BaseModel):
        return ann
    for a in getattr(ann, "__args__", ()) or ():
        m = _model_in(a)
        if m is not None:
            return m
    return None


def format_validation_error(e: ValidationError, cls: Any, source: str) -> str:
    """One line per problem: ``source: dotted.path: message``."""
    lines = []
    for err in e.errors():
        loc = tuple(x for x in err["loc"] if not (isinstance(x, str) and x.startswith("function-")))
        dotted = ".".join(str(x) for x in loc) or "<root>"
        typ = err["type"]
        if typ == "extra_forbidden":
            allowed = _fields_at(cls, loc[:-1])
            msg = f"unknown key {loc[-1]!r}"
            close = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
            if close:
                msg += f" (did you mean {close[0]!r}?)"
            if allowed:
                msg += f"; allowed keys: {', '.join(allowed)}"
        elif typ == "missing":
            msg = "required field is missing"
        else:
            inp = err.get("input")
            shown = repr(inp) if not isinstance(inp, dict) else "a mapping"
            if isinstance(inp, str) and SECRET_NAME_RE.search(dotted):
                shown = REDACTED
            msg = f"{err['msg']} (got {redact(shown)})"  # a misplaced secret stays secret
        lines.append(f"{source}: {dotted}: {msg}")
    return "invalid configuration:\n  " + "\n  ".join(lines)
