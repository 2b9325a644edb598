"""The plugin system: discovery, isolation, broken plugins, tracing, the typed facade."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from motools import plugins as pl
from motools.errors import PluginError, UnknownNameError
from motools.hookspecs import hookimpl
from motools.specs import WorkflowSpec
from tests.support.fake_plugins import BROKEN, GOOD, MISSPELT, install_fake_plugin
from tests.support.plugin_dist import cli_env, run_cli

HEAVY = ("openai", "inspect_ai", "torch", "transformers")


def _site(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, dist: str, modules: dict[str, str]
) -> Path:
    site = tmp_path / "site"
    site.mkdir(exist_ok=True)
    install_fake_plugin(site, dist, modules)
    monkeypatch.syspath_prepend(str(site))
    return site


def test_load_plugins_only_loads_listed_distributions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _site(tmp_path, monkeypatch, "fake-dist-a", {"plug_a": GOOD.format(workflow="wf_a")})
    _site(tmp_path, monkeypatch, "fake-dist-b", {"plug_b": GOOD.format(workflow="wf_b")})

    monkeypatch.setenv("MOTOOLS_LOAD_PLUGINS", "")
    pl.reset_for_tests()
    assert pl.workflows() == {}
    assert [p.name for p in pl.list_plugins()] == []

    monkeypatch.setenv("MOTOOLS_LOAD_PLUGINS", "fake-dist-a")
    pl.reset_for_tests()
    assert set(pl.workflows()) == {"wf_a"}
    info = {p.name: p for p in pl.list_plugins()}
    assert set(info) == {"plug_a"}
    assert info["plug_a"].distribution == "fake-dist-a"
    assert info["plug_a"].version == "0.0.1"
    assert info["plug_a"].hooks == ["register_workflows"]

    # distribution names are compared normalised (PEP 503) and entry-point names work too
    monkeypatch.setenv("MOTOOLS_LOAD_PLUGINS", "Fake_Dist.B, plug_a")
    pl.reset_for_tests()
    assert set(pl.workflows()) == {"wf_a", "wf_b"}
    assert pl.workflows()["wf_b"].plugin == "plug_b"


def test_broken_plugin_warns_naming_it_and_the_rest_load(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _site(
        tmp_path,
        monkeypatch,
        "fake-mixed",
        {"broken": BROKEN, "good": GOOD.format(workflow="still_here")},
    )
    monkeypatch.setenv("MOTOOLS_LOAD_PLUGINS", "fake-mixed")
    pl.reset_for_tests()
    with pytest.warns(RuntimeWarning) as warned:
        names = pl.plugin_names()
    messages = [str(w.message) for w in warned]
    assert any(
        "'broken'" in m and "fake-mixed" in m and "kaboom while importing" in m for m in messages
    ), messages
    assert "good" in names and "broken" not in names
    assert set(pl.workflows()) == {"still_here"}


def test_strict_plugins_reraises_the_import_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _site(tmp_path, monkeypatch, "fake-broken", {"broken": BROKEN})
    monkeypatch.setenv("MOTOOLS_LOAD_PLUGINS", "fake-broken")
    monkeypatch.setenv("MOTOOLS_STRICT_PLUGINS", "1")
    pl.reset_for_tests()
    with pytest.raises(RuntimeError, match="kaboom while importing"):
        pl.load_plugins()


def test_broken_plugin_entry_point_object_is_skipped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same through a patched entry-point list (an EntryPoint with no distribution)."""
    from importlib.metadata import EntryPoint

    (tmp_path / "raises_on_import_mod.py").write_text(BROKEN)
    monkeypatch.syspath_prepend(str(tmp_path))
    eps = [EntryPoint("exploding", "raises_on_import_mod", "motools")]
    monkeypatch.setattr(pl, "_entry_points", lambda: eps)
    monkeypatch.setenv("MOTOOLS_LOAD_PLUGINS", "exploding")
    pl.reset_for_tests()
    with pytest.warns(RuntimeWarning, match="'exploding'.*unknown distribution.*kaboom"):
        pl.load_plugins()
    assert "exploding" not in pl.plugin_names()


def test_cli_keeps_working_with_a_broken_plugin_installed(tmp_path: Path, core_site: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    install_fake_plugin(site, "fake-broken", {"broken_one": BROKEN})
    env = cli_env(core_site, load="core-test-plugin,fake-broken")
    env["PYTHONPATH"] = f"{site}:{env['PYTHONPATH']}"
    r = run_cli("workflow", "list", "--json", env=env)
    assert r.code == 0, r
    assert "broken_one" in r.stderr and "kaboom while importing" in r.stderr, r
    assert "Traceback" not in r.stderr
    assert {w["name"] for w in json.loads(r.stdout)} == {
        "core_pipeline",
        "core_fanout",
        "core_training",
    }

    r = run_cli("plugins", env={**env, "MOTOOLS_STRICT_PLUGINS": "1"})
    assert r.code != 0 and "kaboom while importing" in r.stderr, r


def test_misspelt_hook_fails_loudly_naming_plugin_and_hook(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _site(tmp_path, monkeypatch, "fake-typo", {"typo": MISSPELT})
    monkeypatch.setenv("MOTOOLS_LOAD_PLUGINS", "fake-typo")
    pl.reset_for_tests()
    with pytest.raises(
        PluginError,
        match=r"'typo'.*fake-typo.*'register_workflow'.*did you mean 'register_workflows'",
    ):
        pl.load_plugins()


def test_misspelt_hook_in_explicitly_registered_plugin_is_refused() -> None:
    class Typo:
        @hookimpl
        def register_atom_type(self, register: Any) -> None:
            pass

    with pytest.raises(PluginError, match="register_atom_type.*did you mean 'register_atom_types'"):
        pl.register_plugin(Typo(), name="typo_object")
    assert "typo_object" not in pl.plugin_names()


def test_trace_plugins_prints_hook_calls(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, core_plugins: Any
) -> None:
    monkeypatch.setenv("MOTOOLS_TRACE_PLUGINS", "1")
    pl.reset_for_tests()
    core_plugins("tests.support.core_plugin")
    pl.workflows()
    pl.atom_types()
    err = capsys.readouterr().err
    assert "motools trace: register_workflows -> [tests.support.core_plugin]" in err
    assert "motools trace: register_atom_types -> [motools.default_plugins.atom_types]" in err
    assert "core_pipeline" in err


def test_trace_plugins_in_the_cli(cli: Any) -> None:
    r = cli("core-test-echo", "hi", MOTOOLS_TRACE_PLUGINS="1")
    assert r.code == 0, r
    assert r.stdout.strip() == "echo: hi"
    assert "motools trace: register_commands" in r.stderr


def test_register_workflows_duplicate_name_names_both_plugins() -> None:
    class First:
        @hookimpl
        def register_workflows(self, register: Any) -> None:
            register(WorkflowSpec(name="same_name", impl="a:b"))

    class Second:
        @hookimpl
        def register_workflows(self, register: Any) -> None:
            register(WorkflowSpec(name="same_name", impl="c:d"))

    pl.register_plugin(First(), name="first_plugin")
    pl.register_plugin(Second(), name="second_plugin")
    with pytest.raises(
        PluginError,
        match="'same_name'.*registered twice.*first_plugin.*second_plugin|'same_name'.*registered twice.*second_plugin.*first_plugin",
    ):
        pl.workflows()


def test_register_workflows_through_the_core_test_plugin(core_plugins: Any) -> None:
    wfs = pl.workflows()
    assert {"core_pipeline", "core_fanout", "core_training"} <= set(wfs)
    spec = wfs["core_pipeline"]
    assert spec.plugin == "tests.support.core_plugin"
    assert spec.steps == ("make", "transform")
    from motools.workflow.loading import resolve_workflow

    wf = resolve_workflow("core_pipeline")
    assert [s.name for s in wf.steps] == ["make", "transform"]
    with pytest.raises(UnknownNameError, match="did you mean 'core_pipeline'"):
        resolve_workflow("core_pipelin")


def test_register_training_backends_resolves_lazily(core_plugins: Any) -> None:
    from motools.backends import get_training_backend

    spec = pl.training_backends()["test"]
    assert spec.plugin == "tests.support.test_backend"
    assert spec.impl == "tests.support.test_backend:DeterministicBackend"
    backend = get_training_backend("test")
    assert type(backend).__name__ == "DeterministicBackend"
    assert get_training_backend("test") is backend
    with pytest.raises(
        UnknownNameError, match=r"unknown training backend 'nope'; installed: \['test'\]"
    ):
        get_training_backend("nope")


def test_register_eval_backends_resolves_lazily(core_plugins: Any) -> None:
    from motools.backends import get_eval_backend

    assert pl.eval_backends()["core_eval"].plugin == "tests.support.core_plugin"
    assert type(get_eval_backend("core_eval")).__name__ == "LengthEvalBackend"
    with pytest.raises(UnknownNameError, match="unknown eval backend 'inspectt'"):
        get_eval_backend("inspectt")


def test_register_datasets_lists_dataset_specs(core_plugins: Any) -> None:
    spec = pl.datasets()["core_tiny"]
    assert spec.license == "CC0"
    assert spec.plugin == "tests.support.core_plugin"
    from motools.specs import load_object

    assert callable(load_object(spec.loader))


def test_register_commands_adds_a_cli_command(cli: Any) -> None:
    r = cli("core-test-echo", "bonjour")
    assert r.code == 0, r
    assert r.stdout.strip() == "echo: bonjour"


def test_plugins_command_shows_the_example_plugin(tmp_path: Path) -> None:
    env = cli_env(load="motools-example-plugin")
    r = run_cli("plugins", "--json", env=env)
    assert r.code == 0, r
    rows = json.loads(r.stdout)
    assert rows == [
        {
            "name": "example",
            "distribution": "motools-example-plugin",
            "version": "0.1.0",
            "hooks": ["register_atom_types", "register_workflows"],
            "builtin": False,
        }
    ]
    r = run_cli("plugins", "--all", "--json", env=env)
    names = {p["name"]: p for p in json.loads(r.stdout)}
    assert names["motools.default_plugins.atom_types"]["builtin"] is True
    assert names["motools.default_plugins.atom_types"]["distribution"] == "motools-core"
    assert "example" in names
    r = run_cli("plugins", env=env)
    assert (
        r.code == 0 and "motools-example-plugin" in r.stdout and "register_workflows" in r.stdout
    ), r


def test_workflow_list_shows_the_example_plugin_workflow() -> None:
    env = cli_env(load="motools-example-plugin")
    r = run_cli("workflow", "list", "--json", env=env)
    assert r.code == 0, r
    assert json.loads(r.stdout) == [
        {
            "name": "example_wordcount",
            "distribution": "motools-example-plugin",
            "plugin": "example",
            "steps": ["make_dataset", "count_words"],
            "description": "Count words in a dataset's assistant replies (example plugin).",
        }
    ]
    r = run_cli("workflow", "list", env=env)
    assert (
        r.code == 0 and "example_wordcount" in r.stdout and "make_dataset → count_words" in r.stdout
    ), r


def test_register_atom_types_custom_type_round_trip(store: Any, plugins: Any) -> None:
    plugins("motools_example_plugin")
    from motools.atoms import Atom
    from motools.errors import UnknownNameError
    from motools.workflow import run_workflow
    from motools_example_plugin.atoms import WordCountAtom
    from motools_example_plugin.workflow import wordcount_workflow

    assert pl.atom_types()["wordcount"] is WordCountAtom
    state = run_workflow(
        wordcount_workflow, {}, {"make_dataset": {"replies": ["a b a", "B c"]}}, user="alice"
    )
    atom_id = state.step_states[-1].output_atoms["counts"]
    assert atom_id.startswith("wordcount-alice-")
    atom = Atom.load(atom_id)
    assert isinstance(atom, WordCountAtom)
    assert atom.counts() == {"a": 2, "b": 2, "c": 1}
    assert WordCountAtom.load(atom_id) == atom
    assert atom.provenance["made_from"] == {"texts": state.step_states[0].output_atoms["texts"]}

    # without the plugin, the stored atom's type is a clear error naming it and the plugins
    plugins.cleanup()
    with pytest.raises(
        UnknownNameError, match=r"unknown atom type 'wordcount'.*installed plugins: \["
    ):
        Atom.load(atom_id)


def test_loading_every_installed_plugin_imports_no_heavy_sdk() -> None:
    code = textwrap.dedent(
        f"""
        import json, sys, warnings
        from importlib.metadata import entry_points
        warnings.simplefilter("ignore")
        import motools.cli
        motools.cli._build()
        from motools import plugins
        for facade in (plugins.atom_types, plugins.training_backends, plugins.eval_backends,
                       plugins.workflows, plugins.datasets):
            facade()
        print(json.dumps({{"plugins": plugins.plugin_names(),
                          "installed": sorted(ep.name for ep in entry_points(group="motools")),
                          "heavy": [m for m in {HEAVY!r} if m in sys.modules]}}))
        """
    )
    env = cli_env(load=None)
    p = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
    )
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout.strip().splitlines()[-1])
    missing = set(out["installed"]) - set(out["plugins"])
    assert not missing, f"installed plugins failed to load: {sorted(missing)}"
    assert {"example", "openai", "inspect", "hf", "mozoo"} <= set(out["installed"])
    assert out["heavy"] == [], f"loading plugins imported {out['heavy']}"


def test_register_workflows_hook_that_raises_is_skipped_with_a_warning(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    class Failing:
        @hookimpl
        def register_workflows(self, register: Any) -> None:
            register(WorkflowSpec(name="half_registered", impl="a:b"))
            raise ImportError("No module named 'missing_dependency'")

    class Fine:
        @hookimpl
        def register_workflows(self, register: Any) -> None:
            register(WorkflowSpec(name="fine_workflow", impl="c:d"))

    pl.register_plugin(Failing(), name="failing_plugin")
    pl.register_plugin(Fine(), name="fine_plugin")
    with pytest.warns(
        RuntimeWarning, match="'failing_plugin' failed in register_workflows.*missing_dependency"
    ):
        assert set(pl.workflows()) == {"fine_workflow"}
    monkeypatch.setenv("MOTOOLS_STRICT_PLUGINS", "1")
    pl._cache.clear()
    with pytest.raises(ImportError, match="missing_dependency"):
        pl.workflows()
    pl.unregister_plugin("failing_plugin")
    pl.unregister_plugin("fine_plugin")


def test_version_help_and_usage_errors() -> None:
    from motools import __version__
    from tests.support.cli_inprocess import invoke

    r = run_cli("--version", env=cli_env(load=""))
    assert r.code == 0 and r.stdout.strip() == f"motools {__version__}", r
    r = invoke("--help")
    assert r.code == 0 and "workflow" in r.stdout and "plugins" in r.stdout, r
    r = invoke("no-such-command")
    assert r.code == 2 and "No such command 'no-such-command'" in r.stderr, r
    r = invoke("workflow", "run")
    assert r.code == 2 and "Missing argument" in r.stderr, r


def test_register_commands_hook_that_raises_is_skipped_with_a_warning(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import typer

    class Failing:
        @hookimpl
        def register_commands(self, app: Any) -> None:
            raise RuntimeError("command setup exploded")

    pl.register_plugin(Failing(), name="failing_commands")
    app = typer.Typer()
    with pytest.warns(
        RuntimeWarning, match="'failing_commands' failed in register_commands.*exploded"
    ):
        pl.add_commands(app)
    monkeypatch.setenv("MOTOOLS_STRICT_PLUGINS", "1")
    with pytest.raises(RuntimeError, match="exploded"):
        pl.add_commands(app)
    pl.unregister_plugin("failing_commands")


def test_register_workflows_accepts_a_ready_workflow_object() -> None:
    from tests.support.cli_inprocess import invoke
    from tests.support.core_workflows import pipeline

    class Direct:
        @hookimpl
        def register_workflows(self, register: Any) -> None:
            register(pipeline)

    pl.register_plugin(Direct(), name="direct_plugin", distribution="direct-dist")
    try:
        assert pl.registered_by("register_workflows", "core_pipeline") == "direct_plugin"
        r = invoke("workflow", "list", "--json")
        assert r.code == 0, r
        assert json.loads(r.stdout) == [
            {
                "name": "core_pipeline",
                "distribution": "direct-dist",
                "plugin": "direct_plugin",
                "steps": ["make", "transform"],
                "description": "Make a dataset, then transform it (core tests).",
            }
        ]
    finally:
        pl.unregister_plugin("direct_plugin")
