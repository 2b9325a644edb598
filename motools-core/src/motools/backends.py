"""Interfaces of training and evaluation backends, and resolution by name.

Backends are registered as lightweight specs (:mod:`motools.specs`) and imported on
first use.  A backend module must not import its heavy SDK at module level: import it
inside the methods, so that validating a config stays fast.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from motools.errors import UnknownNameError

if TYPE_CHECKING:
    from motools.atoms.builtin import DatasetAtom, ModelAtom
    from motools.store import ContentStore

TERMINAL_OK = frozenset({"succeeded"})
TERMINAL_FAILED = frozenset({"failed", "cancelled"})


@dataclass
class JobStatus:
    """A snapshot of a training job.  ``status`` is an open set of strings.

    Known values: ``validating_files``, ``queued``, ``running``, ``paused``,
    ``succeeded``, ``failed``, ``cancelled``; anything else is treated as "still going".
    """

    status: str
    trained_tokens: int | None = None
    error_code: str | None = None
    error_message: str | None = None
    events: list[str] = field(default_factory=list)
    progress: dict[str, Any] = field(default_factory=dict)

    @property
    def done(self) -> bool:
        return self.status in TERMINAL_OK or self.status in TERMINAL_FAILED


@dataclass
class ModelInfo:
    """What a finished job produced; becomes a ``model`` atom.

    Evaluation backends map a model atom to their own model naming.  A backend can make
    that explicit with ``metadata["inspect_model"]`` (an Inspect model string, where
    ``{weights_dir}`` is replaced by the atom's stored weights directory) and
    ``metadata["inspect_model_args"]``; otherwise the provider decides (``openai`` ->
    ``openai/<model_id>``, ``inspect`` -> ``model_id`` passed through).
    """

    provider: str
    model_id: str
    base_model: str
    weights_path: Path | None = None
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass
class EvalResult:
    """What an evaluation produced; becomes an ``eval`` atom.

    ``results`` is ``{task: {scorer: {metric: value}}}`` (every scorer kept).
    ``log_dir`` holds the raw log files, stored inside the atom.
    """

    results: dict[str, dict[str, dict[str, float]]]
    samples: dict[str, int] = field(default_factory=dict)
    usage: dict[str, Any] = field(default_factory=dict)
    duration: float | None = None
    log_dir: Path | None = None
    metadata: dict[str, Any] = field(default_factory=dict)


class TrainingBackend:
    """Base class of training backends.

    ``submit`` must be idempotent for a given ``idempotency_key``: a second call with
    the same key adopts the existing job rather than creating another.
    """

    name = ""

    def validate_hyperparameters(self, hyperparameters: dict[str, Any]) -> dict[str, Any]:
        """Return normalised hyperparameters or raise ConfigError (unknown keys, bad values)."""
        return dict(hyperparameters)

    def validate_model(self, model: str) -> None:
        """Raise a UserError when ``model`` cannot be trained by this backend (before anything runs)."""

    def validate_options(self, options: dict[str, Any]) -> None:
        """Raise a UserError for bad step ``options`` or missing credentials (before anything runs)."""

    def identity(self, options: dict[str, Any]) -> dict[str, Any]:
        """Cache-key material from the step options: exactly the options that change what
        is trained (e.g. the endpoint), never secrets.  Options left out (thread counts,
        price overrides) can change without a new, paid job."""
        return {}

    def model_identity(self, model: str) -> str | None:
        """A fingerprint of the base model's content when it lives on this machine (a
        local directory or file), so that new weights at the same path are a new model."""
        return None

    def estimate(
        self,
        dataset: DatasetAtom,
        model: str,
        hyperparameters: dict[str, Any],
        options: dict[str, Any],
    ) -> dict[str, Any]:
        """Pre-flight estimate, e.g. ``{"trained_tokens": n, "estimated_cost_usd": x}``."""
        return {}

    def submit(
        self,
        dataset: DatasetAtom,
        model: str,
        hyperparameters: dict[str, Any],
        suffix: str | None,
        idempotency_key: str,
        options: dict[str, Any],
        store: ContentStore,
    ) -> dict[str, Any]:
        """Start (or adopt) a job; return a JSON handle with at least ``job_id``."""
        raise NotImplementedError

    def status(self, handle: dict[str, Any], store: ContentStore) -> JobStatus:
        raise NotImplementedError

    def cancel(self, handle: dict[str, Any], store: ContentStore) -> None:
        raise NotImplementedError

    def result(self, handle: dict[str, Any], store: ContentStore) -> ModelInfo:
        """The model of a succeeded job."""
        raise NotImplementedError

    def base_model_info(
        self, model: str, options: dict[str, Any], store: ContentStore
    ) -> ModelInfo:
        """The untrained base ``model`` as a model (for baseline evaluations)."""
        raise NotImplementedError(f"backend {self.name!r} cannot describe base models")


class EvalBackend:
    """Base class of evaluation backends."""

    name = ""

    def validate(self, task: str, eval_kwargs: dict[str, Any]) -> None:
        """Raise ConfigError for unknown eval_kwargs keys or a bad task reference."""

    async def evaluate(
        self, model: ModelAtom, task: str, eval_kwargs: dict[str, Any], output_dir: Path
    ) -> EvalResult:
        raise NotImplementedError


_instances: dict[tuple[str, str], Any] = {}


def get_training_backend(name: str) -> TrainingBackend:
    """The training backend registered as ``name`` (instantiated once)."""
    from motools import plugins

    return _get("training", name, plugins.training_backends())


def get_eval_backend(name: str) -> EvalBackend:
    """The evaluation backend registered as ``name`` (instantiated once)."""
    from motools import plugins

    return _get("eval", name, plugins.eval_backends())


def _get(kind: str, name: str, registry: dict[str, Any]) -> Any:
    if (kind, name) in _instances:
        return _instances[(kind, name)]
    spec = registry.get(name)
    if spec is None:
        raise UnknownNameError(
            f"unknown {kind} backend {name!r}; installed: {sorted(registry) or 'none'}. "
            f"Install the package that provides it (e.g. 'pip install motools-{name}')."
        )
    inst = spec.load()
    _instances[(kind, name)] = inst
    return inst


def clear_backend_instances() -> None:
    """Forget instantiated backends (tests)."""
    _instances.clear()
