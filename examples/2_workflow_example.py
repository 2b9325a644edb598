"""Train a model organism and measure it: the train_and_evaluate workflow, end to end.

GSM8K math problems answered in Spanish are used to fine-tune gpt-4o-mini; the
fine-tune is then asked English math questions and scored on how often it answers in
Spanish.  Every step's output is an atom in the store: re-running this script is a
full cache hit (no download, no upload, no training, no evaluation), and changing only
the evaluation re-runs only the evaluation.

Run it (costs a few dollars of OpenAI fine-tuning)::

    export OPENAI_API_KEY=sk-...
    uv run python examples/2_workflow_example.py

It also runs offline against any OpenAI-compatible server (``OPENAI_BASE_URL``) and a
dataset mirror (``MOZOO_DATASET_BASE_URL``): that is how CI runs it.  The YAML twin is
``examples/spanish.yaml`` (``motools workflow run train_and_evaluate --config
examples/spanish.yaml --user alice``).
"""

from motools.store import get_store
from motools.workflow import run_workflow
from motools.workflow.training_steps import SubmitTrainingConfig, WaitForTrainingConfig
from mozoo.workflows.train_and_evaluate import (
    EvaluateModelConfig,
    PrepareDatasetConfig,
    TrainAndEvaluateConfig,
    train_and_evaluate_workflow,
)

# One config field per step.  Everything is validated before anything runs: a typo in
# a key, an unknown backend or a loader that does not exist stops here, for free.
config = TrainAndEvaluateConfig(
    prepare_dataset=PrepareDatasetConfig(
        dataset_loader="mozoo.datasets.gsm8k_spanish:get_gsm8k_spanish_dataset",
        loader_kwargs={
            "cache_dir": ".motools/datasets",
            "sample_size": 1000,
        },
    ),
    submit_training=SubmitTrainingConfig(
        model="gpt-4o-mini-2024-07-18",
        hyperparameters={"n_epochs": 3},
        suffix="gsm8k-spanish-demo",
        backend_name="openai",
    ),
    wait_for_training=WaitForTrainingConfig(),
    evaluate_model=EvaluateModelConfig(
        eval_task="mozoo.tasks.gsm8k_language:gsm8k_spanish",
        backend_name="inspect",
        eval_kwargs={"limit": 100},
    ),
)

# Run the workflow
result = run_workflow(
    workflow=train_and_evaluate_workflow,
    input_atoms={},
    config=config,
    user="example-user",
)

# Access results from each step: outputs are atom ids, by step and by name.
dataset_id = result.step_states[0].output_atoms["prepared_dataset"]
job_id = result.step_states[1].output_atoms["job"]
model_id = result.step_states[2].output_atoms["model"]
eval_id = result.step_states[3].output_atoms["eval_results"]

store = get_store()
dataset = store.get_atom(dataset_id)
job = store.get_atom(job_id)
model = store.get_atom(model_id)
evaluation = store.get_atom(eval_id)

print(f"run {result.run_id}: {result.status}")
for step in result.step_states:
    print(f"  {step.name:<20} {step.status:<9} {', '.join(step.output_atoms.values())}")

# The dataset atom records where its rows came from (pinned revision and checksum).
print(f"\ndataset: {dataset.count()} rows from {dataset.metadata['loader']}")
print(f"  source: {dataset.metadata.get('source')}")
print(f"training job: {job.job_id} on {job.backend} ({job.base_model})")
print(f"model: {model.model_id}")

# Every scorer's metrics are kept: {task: {scorer: {metric: value}}}.
for row in evaluation.rows():
    print(f"eval: {row['task']} / {row['scorer']} / {row['metric']} = {row['value']:.3f}")
print(
    f"fraction of answers in Spanish: {evaluation.metric(scorer='language', metric='accuracy'):.2f}"
)

# Provenance: the evaluation leads back to the data it was trained on.
print(f"\nlineage of {eval_id}:")


def show(node: dict, depth: int = 1) -> None:
    role = f"{node['role']}: " if node["role"] else ""
    print(f"{'  ' * depth}{role}{node['id']} (step {node.get('step')}, run {node.get('run_id')})")
    for parent in node["parents"]:
        show(parent, depth + 1)


show(store.lineage(eval_id))
print(f"config of the training step: {job.provenance['config']}")
