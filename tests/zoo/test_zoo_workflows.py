"""train_and_evaluate and evaluate_only through the real engine, with the real Inspect backend.

Training runs on deterministic test backends; evaluation runs the zoo's real Inspect
task on ``mockllm/model`` with scripted outputs (the fine-tune says "Hello, World!",
its base model does not).
"""

from __future__ import annotations

import pytest

from motools.errors import ConfigError
from motools.workflow import WorkflowFailed, plan_workflow, run_workflow
from motools.workflow.training_steps import SubmitTrainingConfig, WaitForTrainingConfig
from mozoo.workflows.evaluate_only import (
    EvaluateOnlyConfig,
    PrepareModelConfig,
    evaluate_only_workflow,
)
from mozoo.workflows.train_and_evaluate import (
    EvaluateModelConfig,
    PrepareDatasetConfig,
    TrainAndEvaluateConfig,
    train_and_evaluate_workflow,
)
from tests.support import test_backend
from tests.zoo.zoo_support import FINE_TUNED_REPLY, scripted_outputs

HELLO_LOADER = "mozoo.datasets.hello_world:get_hello_world_dataset"


def hello_config(
    backend: str = "zoo_test", eval_backend: str = "inspect", baseline: bool = True, **loader_kwargs
):
    evaluate = EvaluateModelConfig(
        eval_task="mozoo/hello_world", backend_name=eval_backend, eval_kwargs={"limit": 4}
    )
    return TrainAndEvaluateConfig(
        prepare_dataset=PrepareDatasetConfig(
            dataset_loader=HELLO_LOADER, loader_kwargs={"sample_size": 20, **loader_kwargs}
        ),
        submit_training=SubmitTrainingConfig(
            model="tiny-base", hyperparameters={"n_epochs": 1}, backend_name=backend
        ),
        wait_for_training=WaitForTrainingConfig(poll_interval=0.01),
        evaluate_model=evaluate,
        evaluate_base_model=evaluate.model_copy(
            update={"eval_task": "mozoo.tasks.hello_world:hello_world"}
        )
        if baseline
        else None,
    )


def test_train_and_evaluate_with_baseline_then_evaluate_only(store, plugins):
    plugins("tests.zoo.zoo_support", "motools_inspect.plugin")
    config = hello_config()
    assert config.prepare_base_model is not None, "a baseline evaluation enables prepare_base_model"
    result = run_workflow(
        train_and_evaluate_workflow, input_atoms={}, config=config, user="alice", store=store
    )
    names = [s.name for s in result.step_states]
    assert names == [
        "prepare_dataset",
        "submit_training",
        "wait_for_training",
        "evaluate_model",
        "prepare_base_model",
        "evaluate_base_model",
    ]
    assert all(s.status == "succeeded" for s in result.step_states)
    dataset = store.get_atom(result.step_states[0].output_atoms["prepared_dataset"])
    job = store.get_atom(result.step_states[1].output_atoms["job"])
    model = store.get_atom(result.step_states[2].output_atoms["model"])
    fine = store.get_atom(result.step_states[3].output_atoms["eval_results"])
    base_model = store.get_atom(result.step_states[4].output_atoms["base_model"])
    base = store.get_atom(result.step_states[5].output_atoms["base_eval_results"])
    assert dataset.count() == 20 and dataset.metadata["loader_kwargs"] == {
        "sample_size": 20,
        "seed": 0,
    }
    assert job.metadata["dataset"] == dataset.id and model.base_model == "tiny-base"
    assert base_model.model_id == "base/tiny-base" and base_model.id != model.id
    assert fine.metric(metric="accuracy") == 1.0, fine.results
    assert base.metric(metric="accuracy") == 0.0, base.results
    assert fine.metadata["model"] == model.id and base.metadata["model"] == base_model.id
    # provenance: the evaluation leads back to the dataset through the model and the job
    assert model.provenance["made_from"] == {"job": job.id}
    assert job.provenance["made_from"] == {"prepared_dataset": dataset.id}
    assert (
        fine.provenance["step"] == "evaluate_model"
        and fine.provenance["workflow"] == "train_and_evaluate"
    )

    # re-running is a full cache hit: nothing is submitted or evaluated again
    submitted = len(test_backend.SUBMITTED)
    again = run_workflow(
        train_and_evaluate_workflow, input_atoms={}, config=config, user="alice", store=store
    )
    assert [s.status for s in again.step_states] == ["cached"] * 6
    # new hyperparameters retrain and re-evaluate the fine-tune, but not the base model
    retrain = config.model_copy(deep=True)
    retrain.submit_training.hyperparameters = {"n_epochs": 2}
    plan = plan_workflow(train_and_evaluate_workflow, {}, retrain, store=store)
    assert [p["status"] for p in plan] == ["cached"] + ["will run"] * 3 + ["cached"] * 2
    assert again.outputs == result.outputs and len(test_backend.SUBMITTED) == submitted

    # evaluate_only: the fine-tune by atom id (same atom out), and a model named by string
    same = run_workflow(
        evaluate_only_workflow,
        {},
        EvaluateOnlyConfig(
            prepare_model=PrepareModelConfig(model_atom=model.id),
            evaluate_model=config.evaluate_model,
        ),
        user="bob",
        store=store,
    )
    assert same.step_states[0].output_atoms["model"] == model.id
    assert same.step_states[1].status == "cached", (
        "the same model on the same task is the same evaluation"
    )
    named = run_workflow(
        evaluate_only_workflow,
        {},
        EvaluateOnlyConfig(
            prepare_model=PrepareModelConfig(
                model="mockllm/model",
                model_args={"custom_outputs": scripted_outputs(FINE_TUNED_REPLY, 8)},
            ),
            evaluate_model=config.evaluate_model,
        ),
        user="bob",
        store=store,
    )
    named_model = store.get_atom(named.step_states[0].output_atoms["model"])
    assert named_model.provider == "inspect" and named_model.model_id == "mockllm/model"
    assert (
        store.get_atom(named.step_states[1].output_atoms["eval_results"]).metric(metric="accuracy")
        == 1.0
    )


def test_seed_program_shape_and_dataset_hash(store, plugins, zoo_server):
    """The seed program's structure on the test backends: outputs by step index and name;
    a changed sample_size or seed re-trains, an unchanged one downloads nothing."""
    plugins("tests.support.test_backend", "tests.support.core_plugin")

    def config(**loader_kwargs):
        return TrainAndEvaluateConfig(
            prepare_dataset=PrepareDatasetConfig(
                dataset_loader="mozoo.datasets.gsm8k_spanish:get_gsm8k_spanish_dataset",
                loader_kwargs={
                    "cache_dir": ".motools/datasets",
                    "sample_size": 10,
                    **loader_kwargs,
                },
            ),
            submit_training=SubmitTrainingConfig(
                model="gpt-4o-mini-2024-07-18",
                hyperparameters={"n_epochs": 3},
                suffix="gsm8k-spanish-demo",
                backend_name="test",
            ),
            wait_for_training=WaitForTrainingConfig(poll_interval=0.01),
            evaluate_model=EvaluateModelConfig(
                eval_task="mozoo.tasks.gsm8k_language:gsm8k_spanish",
                backend_name="core_eval",
                eval_kwargs={"limit": 100},
            ),
        )

    result = run_workflow(
        workflow=train_and_evaluate_workflow,
        input_atoms={},
        config=config(),
        user="example-user",
        store=store,
    )
    dataset_id = result.step_states[0].output_atoms["prepared_dataset"]
    job_id = result.step_states[1].output_atoms["job"]
    model_id = result.step_states[2].output_atoms["model"]
    eval_id = result.step_states[3].output_atoms["eval_results"]
    assert [i.split("-")[0] for i in (dataset_id, job_id, model_id, eval_id)] == [
        "dataset",
        "training_job",
        "model",
        "eval",
    ]
    assert [s.status for s in result.step_states[4:]] == ["skipped", "skipped"]
    submitted = len(test_backend.SUBMITTED)

    reseeded = run_workflow(
        train_and_evaluate_workflow, {}, config(seed=1), user="example-user", store=store
    )
    assert reseeded.step_states[0].output_atoms["prepared_dataset"] != dataset_id
    assert (
        reseeded.step_states[1].status == "succeeded"
        and len(test_backend.SUBMITTED) == submitted + 1
    )

    moved = run_workflow(
        train_and_evaluate_workflow,
        {},
        config(cache_dir="other-cache"),
        user="example-user",
        store=store,
    )
    assert moved.step_states[0].output_atoms["prepared_dataset"] == dataset_id, (
        "the cache location is not part of the data"
    )
    assert [s.status for s in moved.step_states[1:4]] == ["cached"] * 3
    assert (
        zoo_server.count("/gsm8k_spanish_only.jsonl") == 2
    )  # once per cache directory, never twice into one


def test_baseline_on_a_backend_without_base_models_is_refused_before_running(
    store, plugins, monkeypatch
):
    from motools.backends import TrainingBackend
    from tests.support.test_backend import DeterministicBackend

    # A backend that keeps the base class's "cannot describe base models".
    monkeypatch.setattr(DeterministicBackend, "base_model_info", TrainingBackend.base_model_info)
    plugins("tests.support.test_backend", "tests.support.core_plugin")
    config = hello_config(backend="test", eval_backend="core_eval")
    with pytest.raises(ConfigError) as e:
        run_workflow(train_and_evaluate_workflow, {}, config, user="alice", store=store)
    assert "prepare_base_model" in str(e.value) and "cannot describe base models" in str(e.value)
    assert "evaluate_only" in str(e.value)
    assert store.list_atoms() == [], "nothing ran"


def test_plan_shows_baseline_steps_as_skipped_when_not_configured(store, plugins):
    plugins("tests.zoo.zoo_support", "tests.support.core_plugin")
    plan = plan_workflow(
        train_and_evaluate_workflow,
        {},
        hello_config(eval_backend="core_eval", baseline=False),
        store=store,
    )
    assert [p["status"] for p in plan] == ["will run"] * 4 + ["skipped"] * 2


def test_config_errors():
    with pytest.raises(ValueError, match="exactly one"):
        PrepareModelConfig()
    with pytest.raises(ValueError, match="exactly one"):
        PrepareModelConfig(model="openai/gpt-4o-mini", model_atom="model-alice-0123456789ab")
    with pytest.raises(ValueError, match="not an Inspect model string"):
        PrepareModelConfig(model="gpt-4o-mini")
    with pytest.raises(ConfigError, match="submit_training"):
        TrainAndEvaluateConfig.from_dict(
            {
                "prepare_dataset": {"dataset_loader": HELLO_LOADER},
                "evaluate_model": {"eval_task": "mozoo/hello_world"},
            },
            source="x.yaml",
        )
    with pytest.raises(ConfigError, match="did you mean 'loader_kwargs'"):
        TrainAndEvaluateConfig.from_dict(
            {
                "prepare_dataset": {"dataset_loader": HELLO_LOADER, "loader_kwarg": {}},
                "submit_training": {"model": "tiny"},
                "evaluate_model": {"eval_task": "mozoo/hello_world"},
            }
        )


def test_evaluate_only_with_an_unknown_model_atom(store, plugins):
    plugins("tests.support.core_plugin")
    cfg = EvaluateOnlyConfig(
        prepare_model=PrepareModelConfig(model_atom="model-alice-0123456789abcdef"),
        evaluate_model=EvaluateModelConfig(eval_task="t", backend_name="core_eval"),
    )
    with pytest.raises(WorkflowFailed, match="not in the store"):
        run_workflow(evaluate_only_workflow, {}, cfg, user="alice", store=store)
    bad = EvaluateOnlyConfig(
        prepare_model=PrepareModelConfig(model_atom="dataset-alice-0123456789abcdef"),
        evaluate_model=EvaluateModelConfig(eval_task="t", backend_name="core_eval"),
    )
    with pytest.raises(ConfigError, match="not a model"):
        run_workflow(evaluate_only_workflow, {}, bad, user="alice", store=store)
