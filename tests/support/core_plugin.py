"""The core tests' plugin: workflows, an eval backend, a dataset and a CLI command.

Registered in-process with the ``plugins`` fixture, or in a subprocess through a
temporary ``*.dist-info`` (see :mod:`tests.support.plugin_dist`).
"""

from __future__ import annotations

from typing import Any

from motools.hookspecs import hookimpl
from motools.specs import DatasetSpec, EvalBackendSpec, WorkflowSpec

WORKFLOWS = {
    "core_pipeline": ("pipeline", ("make", "transform")),
    "core_fanout": ("fanout", ("left", "right", "join")),
    "core_training": (
        "training",
        ("make", "submit_training", "wait_for_training", "evaluate_model"),
    ),
}


@hookimpl
def register_workflows(register: Any) -> None:
    for name, (attr, steps) in WORKFLOWS.items():
        register(
            WorkflowSpec(
                name=name,
                impl=f"tests.support.core_workflows:{attr}",
                description=f"core test workflow {attr}",
                steps=steps,
            )
        )


@hookimpl
def register_eval_backends(register: Any) -> None:
    register(
        EvalBackendSpec(
            name="core_eval",
            impl="tests.support.core_eval_backend:LengthEvalBackend",
            description="scores model id length",
        )
    )


@hookimpl
def register_datasets(register: Any) -> None:
    register(
        DatasetSpec(
            name="core_tiny",
            loader="tests.support.core_workflows:write_chat_jsonl",
            description="a tiny dataset",
            license="CC0",
        )
    )


@hookimpl
def register_commands(app: Any) -> None:
    def core_test_echo(word: str) -> None:
        """Echo WORD (a command added by the core tests' plugin)."""
        print(f"echo: {word}")

    app.command("core-test-echo")(core_test_echo)
