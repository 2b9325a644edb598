"""The plugin manager and its typed facade.

One :class:`pluggy.PluginManager` for project ``motools``.  Core features are plugins
too (``DEFAULT_PLUGINS``).  Third-party plugins are found through the ``motools``
entry-point group, each loaded in its own ``try`` so that one broken plugin produces a
warning naming it instead of a dead CLI.

Environment switches:

- ``MOTOOLS_LOAD_PLUGINS=dist1,dist2`` loads only those distributions ("" loads none);
- ``MOTOOLS_STRICT_PLUGINS=1`` re-raises a plugin's import error;
- ``MOTOOLS_TRACE_PLUGINS=1`` prints every hook call to stderr.

The rest of motools calls the facade functions (:func:`training_backends`,
:func:`atom_types`, ...) and never handles raw ``pm.hook.*`` results.
"""

from __future__ import annotations

import difflib
import importlib
import os
import re
import sys
import warnings
from dataclasses import dataclass, field
from typing import Any

import pluggy

from motools import hookspecs
from motools.errors import PluginError

DEFAULT_PLUGINS: tuple[str, ...] = (
    "motools.default_plugins.atom_types",
    "motools.default_plugins.commands",
)

pm = pluggy.PluginManager("motools")
pm.add_hookspecs(hookspecs)

_loaded = False
_undo_trace: Any = None


@dataclass
class PluginInfo:
    """What ``motools plugins`` shows about one registered plugin."""

    name: str
    distribution: str | None
    version: str | None
    hooks: list[str] = field(default_factory=list)
    builtin: bool = False


_dist_of_plugin: dict[str, tuple[str | None, str | None]] = {}


def _entry_points() -> list[Any]:
    from importlib.metadata import entry_points

    return list(entry_points(group="motools"))


def _canonical(name: str | None) -> str | None:
    """PEP 503 normalised distribution name, so ``my_plugin`` matches ``my-plugin``."""
    return None if name is None else re.sub(r"[-_.]+", "-", name).lower()


def _strict() -> bool:
    return os.environ.get("MOTOOLS_STRICT_PLUGINS", "") not in ("", "0")


def _tracing() -> bool:
    return os.environ.get("MOTOOLS_TRACE_PLUGINS", "") not in ("", "0")


def _check_pending() -> None:
    """Fail loudly, naming the plugin, when a hook implementation matches no hook spec."""
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as e:
        name = pm.get_name(e.plugin) or repr(e.plugin)
        dist = _dist_of_plugin.get(name, (None, None))[0]
        m = re.search(r"unknown hook '(\w+)'", str(e))
        hook = m.group(1) if m else "?"
        specs = [n for n in vars(hookspecs) if n.startswith("register_")]
        close = difflib.get_close_matches(hook, specs, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else f"; known hooks: {', '.join(specs)}"
        raise PluginError(
            f"plugin {name!r} (from {dist or 'unknown distribution'}) implements unknown hook "
            f"{hook!r}{hint}"
        ) from None


def load_plugins() -> None:
    """Register default plugins and entry-point plugins, once (idempotent)."""
    global _loaded, _undo_trace
    if _loaded:
        return
    _loaded = True
    for modname in DEFAULT_PLUGINS:
        if pm.get_plugin(modname) is None:
            pm.register(importlib.import_module(modname), name=modname)
            _dist_of_plugin[modname] = ("motools-core", _core_version())
    allowed = os.environ.get("MOTOOLS_LOAD_PLUGINS")
    allowed_set = (
        None
        if allowed is None
        else {_canonical(a.strip()) for a in allowed.split(",") if a.strip()}
    )
    strict = _strict()
    for ep in _entry_points():
        dist = getattr(ep, "dist", None)
        dist_name = dist.name if dist is not None else None
        if (
            allowed_set is not None
            and _canonical(dist_name) not in allowed_set
            and _canonical(ep.name) not in allowed_set
        ):
            continue
        if pm.get_plugin(ep.name) is not None:
            continue
        try:
            module = ep.load()
            pm.register(module, name=ep.name)
        except Exception as exc:  # a broken plugin must not kill the CLI
            if strict:
                raise
            warnings.warn(
                f"motools: plugin {ep.name!r} (from {dist_name or 'unknown distribution'}) "
                f"failed to load and was skipped: {type(exc).__name__}: {exc}",
                RuntimeWarning,
                stacklevel=2,
            )
            continue
        _dist_of_plugin[ep.name] = (dist_name, dist.version if dist is not None else None)
    _check_pending()
    if _tracing() and _undo_trace is None:

        def before(hook_name: str, hook_impls: Any, kwargs: Any) -> None:
            names = ", ".join(pm.get_name(i.plugin) or "?" for i in hook_impls)
            print(f"motools trace: {hook_name} -> [{names}]", file=sys.stderr)

        def after(outcome: Any, hook_name: str, hook_impls: Any, kwargs: Any) -> None:
            print(f"motools trace: {hook_name} done", file=sys.stderr)

        _undo_trace = pm.add_hookcall_monitoring(before, after)


def _core_version() -> str:
    from motools import __version__

    return __version__


def reset_for_tests() -> None:
    """Unregister everything and forget cached registries (tests only)."""
    global _loaded, _undo_trace
    for name, _plugin in list(pm.list_name_plugin()):
        pm.unregister(name=name)
    _dist_of_plugin.clear()
    _cache.clear()
    if _undo_trace is not None:
        _undo_trace()
        _undo_trace = None
    _loaded = False


def register_plugin(module: Any, name: str, distribution: str | None = None) -> None:
    """Register a plugin object explicitly (tests, notebooks)."""
    load_plugins()
    pm.register(module, name=name)
    _dist_of_plugin[name] = (distribution, None)
    _cache.clear()
    try:
        _check_pending()
    except PluginError:
        unregister_plugin(name)
        raise


def unregister_plugin(name: str) -> None:
    """Remove a plugin registered with :func:`register_plugin`."""
    pm.unregister(name=name)
    _dist_of_plugin.pop(name, None)
    _cache.clear()


def list_plugins(include_builtin: bool = False) -> list[PluginInfo]:
    """Every registered plugin with its distribution, version and implemented hooks."""
    load_plugins()
    out = []
    for name, plugin in pm.list_name_plugin():
        if plugin is None:
            continue
        builtin = name in DEFAULT_PLUGINS
        if builtin and not include_builtin:
            continue
        dist, version = _dist_of_plugin.get(name, (None, None))
        hooks = sorted(h.name for h in (pm.get_hookcallers(plugin) or []))
        out.append(PluginInfo(name, dist, version, hooks, builtin))
    return sorted(out, key=lambda p: (not p.builtin, p.name))


_cache: dict[str, dict[str, Any]] = {}


def _collect(hook_name: str, key: Any) -> dict[str, Any]:
    """Call a register-style hook and collect ``{name: item}``, refusing duplicates."""
    if hook_name in _cache:
        return _cache[hook_name]
    load_plugins()
    hook = getattr(pm.hook, hook_name)
    result: dict[str, Any] = {}
    owners: dict[str, str] = {}
    impls = list(reversed(hook.get_hookimpls()))
    # Implementations are called one by one (to know which plugin registers what), not
    # through ``pm.hook``, so the hook-call monitoring does not see them: trace here.
    if _tracing():
        names = ", ".join(pm.get_name(i.plugin) or "?" for i in impls)
        print(f"motools trace: {hook_name} -> [{names}]", file=sys.stderr)
    for impl in impls:
        plugin_name = pm.get_name(impl.plugin) or repr(impl.plugin)

        def register(item: Any, _plugin: str = plugin_name) -> None:
            name = key(item)
            if name in result:
                raise PluginError(
                    f"{hook_name}: name {name!r} is registered twice, by plugin "
                    f"{owners[name]!r} and by plugin {_plugin!r}"
                )
            if hasattr(item, "plugin") and not getattr(item, "plugin", "x"):
                try:
                    object.__setattr__(item, "plugin", _plugin)
                except Exception:
                    pass
            result[name] = item
            owners[name] = _plugin

        try:
            impl.function(register=register)
        except PluginError:
            raise
        except Exception as exc:  # e.g. a lazy import inside the hook: skip this plugin
            if _strict():
                raise
            for name in [n for n, owner in owners.items() if owner == plugin_name]:
                del result[name], owners[name]
            warnings.warn(
                f"motools: plugin {plugin_name!r} failed in {hook_name} and was skipped: "
                f"{type(exc).__name__}: {exc}",
                RuntimeWarning,
                stacklevel=3,
            )
    if _tracing():
        print(f"motools trace: {hook_name} done: {sorted(result)}", file=sys.stderr)
    _cache[hook_name] = result
    _owners[hook_name] = owners
    return result


_owners: dict[str, dict[str, str]] = {}


def registered_by(hook_name: str, name: str) -> str | None:
    """The plugin that registered ``name`` through ``hook_name`` (e.g. a ready Workflow object)."""
    _collect(hook_name, _KEYS[hook_name])  # cached; fills _owners together with _cache
    return _owners.get(hook_name, {}).get(name)


_KEYS: dict[str, Any] = {
    "register_atom_types": lambda cls: cls.type,
    "register_training_backends": lambda s: s.name,
    "register_eval_backends": lambda s: s.name,
    "register_workflows": lambda s: s.name,
    "register_datasets": lambda s: s.name,
}


def atom_types() -> dict[str, type]:
    """``{type name: Atom subclass}`` from every plugin."""
    return _collect("register_atom_types", _KEYS["register_atom_types"])


def training_backends() -> dict[str, Any]:
    """``{name: TrainingBackendSpec}`` from every plugin."""
    return _collect("register_training_backends", _KEYS["register_training_backends"])


def eval_backends() -> dict[str, Any]:
    """``{name: EvalBackendSpec}`` from every plugin."""
    return _collect("register_eval_backends", _KEYS["register_eval_backends"])


def workflows() -> dict[str, Any]:
    """``{name: WorkflowSpec}`` from every plugin."""
    return _collect("register_workflows", _KEYS["register_workflows"])


def datasets() -> dict[str, Any]:
    """``{name: DatasetSpec}`` from every plugin."""
    return _collect("register_datasets", _KEYS["register_datasets"])


def add_commands(app: Any) -> None:
    """Let every plugin add its CLI commands to ``app``; a failing plugin is skipped with a warning."""
    load_plugins()
    impls = list(reversed(pm.hook.register_commands.get_hookimpls()))
    if _tracing():
        names = ", ".join(pm.get_name(i.plugin) or "?" for i in impls)
        print(f"motools trace: register_commands -> [{names}]", file=sys.stderr)
    for impl in impls:
        try:
            impl.function(app=app)
        except Exception as exc:
            if _strict():
                raise
            warnings.warn(
                f"motools: plugin {pm.get_name(impl.plugin)!r} failed in register_commands and "
                f"its commands were skipped: {type(exc).__name__}: {exc}",
                RuntimeWarning,
                stacklevel=2,
            )


def plugin_names() -> list[str]:
    """Names of all registered plugins (for error messages)."""
    load_plugins()
    return sorted(n for n, p in pm.list_name_plugin() if p is not None)
