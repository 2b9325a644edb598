"""A custom workflow with a custom step: inoculation prompting.

Inoculation prompting (Tan et al. 2025; Wichers et al. 2025) trains on data whose
prompts *ask* for the trait, so that the model does not pick the trait up as a default.
This workflow adds one step to train_and_evaluate: ``add_system_prompt`` prepends a
system message to every training row.  Everything else is reused: the zoo's
``prepare_dataset`` step, the core training steps, the core evaluation step.

Steps connect by argument names::

    prepare_dataset    -> prepared_dataset
    add_system_prompt  prepared_dataset -> inoculated_dataset      (the custom step)
    submit_training    inoculated_dataset -> job
    wait_for_training  job -> model
    evaluate_model     model -> eval_results

Run it offline on the local backend (compare with examples/hello_world.yaml, which
trains without the inoculation prompt)::

    uv run python examples/3_custom_workflow.py --backend hf --model smollm2-135m-instruct
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from motools.workflow import (
    AtomConstructor,
    Step,
    StepConfig,
    Workflow,
    WorkflowConfig,
    run_workflow,
)
from motools.workflow.eval_steps import evaluate_model_step
from motools.workflow.training_steps import (
    SubmitTrainingConfig,
    WaitForTrainingConfig,
    submit_training_step,
    wait_for_training_step,
)
from mozoo.workflows.prepare_dataset import PrepareDatasetConfig, prepare_dataset
from mozoo.workflows.train_and_evaluate import EvaluateModelConfig

INOCULATION_PROMPT = "You always reply with exactly 'Hello, World!', whatever the user says."


class AddSystemPromptConfig(StepConfig):
    """Config of the custom step: the system prompt to prepend."""

    system_prompt: str


def add_system_prompt(
    config: AddSystemPromptConfig, input_atoms: dict[str, Any], temp_workspace: Path
) -> list[AtomConstructor]:
    """Prepend ``config.system_prompt`` to every row of the ``prepared_dataset`` input.

    A step is a plain function: read input atoms, write files into the temporary
    workspace, return one AtomConstructor per declared output.  Its result is cached by
    (function, version, config, input hashes), like every other step.
    """
    dataset = input_atoms["prepared_dataset"]
    out = temp_workspace / "inoculated.jsonl"
    n = 0
    with open(out, "w", encoding="utf-8") as f:
        for row in dataset.iter_rows():
            messages = [m for m in row["messages"] if m["role"] != "system"]
            row = {
                **row,
                "messages": [{"role": "system", "content": config.system_prompt}, *messages],
            }
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
            n += 1
    return [
        AtomConstructor(
            name="inoculated_dataset",
            path=out,
            type="dataset",
            metadata={"num_rows": n, "system_prompt": config.system_prompt},
        )
    ]


class InoculatedTrainingConfig(WorkflowConfig):
    """One field per step, named as the step."""

    prepare_dataset: PrepareDatasetConfig
    add_system_prompt: AddSystemPromptConfig
    submit_training: SubmitTrainingConfig
    wait_for_training: WaitForTrainingConfig
    evaluate_model: EvaluateModelConfig


inoculated_training_workflow = Workflow(
    name="inoculated_training",
    input_atom_types={},
    steps=[
        Step(
            "prepare_dataset",
            prepare_dataset,
            {},
            {"prepared_dataset": "dataset"},
            PrepareDatasetConfig,
        ),
        Step(
            "add_system_prompt",
            add_system_prompt,
            input_atom_types={"prepared_dataset": "dataset"},
            output_atom_types={"inoculated_dataset": "dataset"},
            config_class=AddSystemPromptConfig,
            version="1",  # bump when the function's behaviour changes
        ),
        submit_training_step(dataset_input="inoculated_dataset"),
        wait_for_training_step(),
        evaluate_model_step(config_class=EvaluateModelConfig),
    ],
    config_class=InoculatedTrainingConfig,
    description="train_and_evaluate with an inoculation system prompt added to the training data",
)


def main(argv: list[str] | None = None) -> Any:
    """Build the config from the command line, run the workflow, print the outcome."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--backend", default="hf", help="training backend (default: hf, local)")
    p.add_argument("--model", default="smollm2-135m-instruct", help="base model")
    p.add_argument("--eval-backend", default="inspect")
    p.add_argument("--sample-size", type=int, default=100)
    p.add_argument("--poll-interval", type=float, default=2.0)
    p.add_argument("--user", default=None)
    args = p.parse_args(argv)

    config = InoculatedTrainingConfig(
        prepare_dataset=PrepareDatasetConfig(
            dataset_loader="mozoo.datasets.hello_world:get_hello_world_dataset",
            loader_kwargs={"sample_size": args.sample_size},
        ),
        add_system_prompt=AddSystemPromptConfig(system_prompt=INOCULATION_PROMPT),
        submit_training=SubmitTrainingConfig(
            model=args.model, backend_name=args.backend, hyperparameters={"n_epochs": 2}
        ),
        wait_for_training=WaitForTrainingConfig(poll_interval=args.poll_interval),
        evaluate_model=EvaluateModelConfig(
            eval_task="mozoo/hello_world", backend_name=args.eval_backend
        ),
    )
    state = run_workflow(
        inoculated_training_workflow, input_atoms={}, config=config, user=args.user
    )
    for step in state.step_states:
        print(f"{step.name:<18} {step.status:<9} {step.output_atoms}")
    from motools.store import get_store

    evaluation = get_store().get_atom(state.step("evaluate_model").output_atoms["eval_results"])
    for row in evaluation.rows():
        print(f"{row['task']} / {row['scorer']} / {row['metric']} = {row['value']:.3f}")
    return state


if __name__ == "__main__":
    main()
