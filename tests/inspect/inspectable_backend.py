"""A test training backend whose models Inspect can evaluate (``mockllm/model`` with scripted outputs).

It is the core's deterministic ``test`` backend, except that ``result`` gives the model
atom the ``inspect_model`` / ``inspect_model_args`` metadata an evaluation backend maps.
"""

from __future__ import annotations

from typing import Any

from motools.backends import ModelInfo
from motools.hookspecs import hookimpl
from motools.specs import TrainingBackendSpec
from tests.inspect.scripted_outputs import mock_outputs
from tests.support.test_backend import DeterministicBackend


class InspectableTestBackend(DeterministicBackend):
    name = "test_inspectable"

    def result(self, handle: dict[str, Any], store: Any) -> ModelInfo:
        info = super().result(handle, store)
        info.metadata.update(
            inspect_model="mockllm/model",
            inspect_model_args={"custom_outputs": mock_outputs("Hello", 4)},
        )
        return info


@hookimpl
def register_training_backends(register: Any) -> None:
    register(
        TrainingBackendSpec(
            name="test_inspectable",
            impl="tests.inspect.inspectable_backend:InspectableTestBackend",
            description="deterministic test backend with Inspect-evaluable models",
        )
    )
