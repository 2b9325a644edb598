"""motools plugin entry module: registers only; the work lives in lazily imported modules.

Importing this module imports :mod:`mozoo.catalog` (plain data) and nothing else of
weight: no Inspect, no loaders, no workflow modules.
"""

from __future__ import annotations

from typing import Any

from motools.hookspecs import hookimpl
from motools.specs import DatasetSpec, WorkflowSpec
from mozoo.catalog import DATASETS


@hookimpl
def register_workflows(register: Any) -> None:
    register(
        WorkflowSpec(
            name="train_and_evaluate",
            impl="mozoo.workflows.train_and_evaluate:train_and_evaluate_workflow",
            description="prepare a dataset, fine-tune on it, evaluate the fine-tune "
            "(and optionally its untrained base model)",
            steps=(
                "prepare_dataset",
                "submit_training",
                "wait_for_training",
                "evaluate_model",
                "prepare_base_model",
                "evaluate_base_model",
            ),
        )
    )
    register(
        WorkflowSpec(
            name="evaluate_only",
            impl="mozoo.workflows.evaluate_only:evaluate_only_workflow",
            description="evaluate one model (a model atom or any Inspect model string) on a task",
            steps=("prepare_model", "evaluate_model"),
        )
    )


@hookimpl
def register_datasets(register: Any) -> None:
    for info in DATASETS.values():
        extra: dict[str, Any] = {"homepage": info.homepage}
        if info.files:
            spec = info.files[info.default_variant]
            extra.update(revision=spec.revision, sha256=spec.sha256, variants=sorted(info.files))
        else:
            extra["generated"] = True
        register(
            DatasetSpec(
                name=info.name,
                loader=info.loader,
                description=info.description,
                citation=info.citation,
                license=info.license,
                source=info.source,
                extra=extra,
            )
        )


@hookimpl
def register_commands(app: Any) -> None:
    from mozoo.cli import zoo_app

    app.add_typer(zoo_app(), name="zoo", help="The model-organism zoo: datasets and tasks.")
