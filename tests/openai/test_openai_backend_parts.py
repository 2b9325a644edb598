"""The backend's parts: registration, options, hyperparameters, prices, pre-flight, adoption, events."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import openai
import pytest

from motools.backends import get_training_backend
from motools.errors import BackendUnavailable, ConfigError, UserError
from tests.openai.conftest import FAKE_KEY


def test_plugin_registers_without_importing_the_sdk(plugins: Any) -> None:
    code = (
        "import sys, motools_openai.plugin, motools_openai.backend;"
        "from motools_openai.options import parse_options; parse_options({});"
        "print(sorted(m for m in ('openai', 'httpx2', 'tiktoken') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
    plugins("motools_openai.plugin")
    from motools import plugins as registry

    spec = registry.training_backends()["openai"]
    assert spec.impl == "motools_openai.backend:OpenAIBackend"
    assert spec.required_env == ("OPENAI_API_KEY",)
    assert type(get_training_backend("openai")).__name__ == "OpenAIBackend"


def test_endpoint_resolution_and_identity(monkeypatch: pytest.MonkeyPatch) -> None:
    from motools_openai.options import parse_options

    assert parse_options({}).endpoint.base_url == "https://api.openai.com/v1"
    monkeypatch.setenv("OPENAI_BASE_URL", "http://localhost:8000/v1/")
    assert parse_options({}).endpoint.base_url == "http://localhost:8000/v1"
    opts = parse_options(
        {"base_url": "https://ft.example.org/v1", "project": "p1", "api_key_env": "EXAMPLE_KEY"}
    )
    assert opts.endpoint.identity() == {"endpoint": "https://ft.example.org/v1", "project": "p1"}
    monkeypatch.setenv("EXAMPLE_KEY", "sk-secret-value-123456789")
    from motools_openai.backend import OpenAIBackend

    ident = OpenAIBackend().identity(
        {"base_url": "https://ft.example.org/v1", "api_key_env": "EXAMPLE_KEY"}
    )
    assert ident == {"endpoint": "https://ft.example.org/v1"}


@pytest.mark.parametrize(
    "options, message",
    [
        ({"base_ulr": "x"}, "options: unknown key 'base_ulr' (did you mean 'base_url'?)"),
        ({"api_key": "sk-abc"}, "options.api_key: do not put API keys in a config"),
        ({"api_key_env": "sk-live-abcdef0123456789"}, "options.api_key_env: expected the *name*"),
        ({"base_url": "https://user:hunter2@example.org/v1"}, "the URL contains credentials"),
        ({"base_url": "ftp://example.org"}, "options.base_url: expected an http(s) URL"),
        ({"price_per_1m_training_tokens": -1}, "non-negative number"),
        ({"attempt": 0}, "options.attempt: expected an integer >= 1"),
    ],
)
def test_bad_options_are_config_errors_without_echoing_secrets(
    options: dict[str, Any], message: str
) -> None:
    from motools_openai.options import parse_options

    with pytest.raises(ConfigError) as e:
        parse_options(options)
    assert message in str(e.value)
    for secret in ("sk-abc", "sk-live-abcdef0123456789", "hunter2"):
        assert secret not in str(e.value)


def test_hyperparameters_validated() -> None:
    from motools_openai.backend import OpenAIBackend

    b = OpenAIBackend()
    assert b.validate_hyperparameters(
        {"n_epochs": 3, "batch_size": "auto", "learning_rate_multiplier": 2, "seed": 7}
    ) == {"n_epochs": 3, "batch_size": "auto", "learning_rate_multiplier": 2.0, "seed": 7}
    for bad, msg in [
        ({"epochs": 3}, "unknown key 'epochs' (did you mean 'n_epochs'?)"),
        ({"n_epochs": 0}, "hyperparameters.n_epochs: expected an integer >= 1 or 'auto'"),
        ({"n_epochs": True}, "hyperparameters.n_epochs"),
        ({"learning_rate_multiplier": -0.1}, "expected a number > 0"),
        ({"seed": "x"}, "hyperparameters.seed"),
    ]:
        with pytest.raises(ConfigError, match=None) as e:
            b.validate_hyperparameters(bad)
        assert msg in str(e.value)
    with pytest.raises(UserError, match="expected a model name"):
        b.validate_model("gpt 4o")


def test_price_table() -> None:
    from motools_openai import prices

    assert (
        prices.price_per_million("gpt-4o-mini")
        == prices.price_per_million("gpt-4o-mini-2024-07-18")
        == 3.0
    )
    assert prices.price_per_million("ft:gpt-4.1-mini-2025-04-14:org:x:abc") == 5.0
    assert prices.price_per_million("meta-llama/Llama-3-8b") is None
    assert prices.training_cost_usd(2_000_000, "gpt-4.1-2025-04-14") == 50.0
    assert prices.training_cost_usd(2_000_000, "my-model", override_per_million=0.5) == 1.0
    assert prices.training_cost_usd(1000, "my-model") is None
    assert prices.CURRENT_VERSION in prices.PRICE_TABLES


def test_approximate_token_count_and_auto_epochs(tmp_path: Path) -> None:
    from motools_openai.preflight import effective_epochs, run_preflight

    row = {
        "messages": [
            {"role": "system", "content": "x" * 40},
            {"role": "user", "content": "y" * 9},
            {"role": "assistant", "content": "z"},
        ]
    }
    path = tmp_path / "d.jsonl"
    path.write_text((json.dumps(row) + "\n") * 10)
    pf = run_preflight(path, "some-open-model", "d")
    # per row: 3 + (3 + 10) + (3 + 3) + (3 + 1) = 26
    assert (pf.n_rows, pf.dataset_tokens, pf.token_count_method) == (
        10,
        260,
        "approx:chars/4+overhead",
    )
    assert effective_epochs(None, 10) == 10  # OpenAI aims at >= 100 examples seen
    assert effective_epochs("auto", 100) == 3
    assert effective_epochs(None, 20_000) == 1
    assert effective_epochs(4, 20_000) == 4


def test_preflight_reports_many_problems_with_row_numbers(tmp_path: Path) -> None:
    from motools_openai.preflight import run_preflight

    good = {"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]}
    bad_weight = {
        "messages": [
            {"role": "user", "content": "q", "weight": 1},
            {"role": "assistant", "content": "a"},
        ]
    }
    tool_call = {
        "messages": [
            {"role": "user", "content": "q"},
            {"role": "assistant", "content": None, "tool_calls": [{"id": "1"}]},
            {"role": "tool", "content": "r"},
            {"role": "assistant", "content": "a"},
        ]
    }
    rows = [good, bad_weight, tool_call] + [{"messages": []}] * 30
    path = tmp_path / "d.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    with pytest.raises(UserError) as e:
        run_preflight(path, "gpt-4o-mini", "ds-x")
    text = str(e.value)
    assert "row 2: messages[0]: 'weight' must be 0 or 1 and only on assistant messages" in text
    assert "row 3" not in text  # an assistant turn that only calls tools is fine
    assert "row 4: expected a non-empty 'messages' list" in text
    assert "... and 11 more" in text


def test_missing_key_raises_before_network(monkeypatch: pytest.MonkeyPatch) -> None:
    from motools_openai.options import parse_options

    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")  # nothing listens there
    with pytest.raises(BackendUnavailable, match="OPENAI_API_KEY is not set"):
        parse_options({}).endpoint.api_key()


def test_scrub_masks_keys() -> None:
    from motools_openai.errors import scrub

    assert scrub("bad key sk-abcdefghijklmnop1234 here", "") == "bad key sk-abcd*** here"
    assert scrub("x my-exact-secret-value y", "my-exact-secret-value") == "x *** y"
    assert scrub("job ftjob-abc123def456ghi789 failed") == "job ftjob-abc123def456ghi789 failed"


@pytest.mark.parametrize("metadata_filter", ["supported", "rejected", "ignored"])
def test_adopts_the_tagged_job_whatever_the_filter_support(
    fake_openai: Any, openai_plugin: Any, store: Any, make_dataset: Any, metadata_filter: str
) -> None:
    """A job created by a run whose response was lost is found by its tag, not confused with others."""
    client = openai.OpenAI(api_key=FAKE_KEY, base_url=fake_openai.base_url)
    f = client.files.create(file=("d.jsonl", b"{}\n"), purpose="fine-tune")
    key = "k" * 64
    for tag in ("other-1", key, "other-2"):
        client.fine_tuning.jobs.create(
            model="gpt-4o-mini", training_file=f.id, metadata={"motools_cache_key": tag}
        )
    mine = [
        j for j in fake_openai.state.jobs.values() if j["metadata"]["motools_cache_key"] == key
    ][0]
    fake_openai.metadata_filter = metadata_filter
    backend = get_training_backend("openai")
    handle = backend.submit(make_dataset(12), "gpt-4o-mini", {}, None, key, {}, store)
    assert handle["job_id"] == mine["id"] and handle["adopted"] is True
    assert len(fake_openai.state.jobs) == 3


def test_events_are_fetched_incrementally(fake_openai: Any, openai_plugin: Any, store: Any) -> None:
    from motools_openai.job_events import EventTracker

    client = openai.OpenAI(api_key=FAKE_KEY, base_url=fake_openai.base_url)
    f = client.files.create(file=("d.jsonl", b"{}\n"), purpose="fine-tune")
    job = client.fine_tuning.jobs.create(model="gpt-4o-mini", training_file=f.id)
    for i in range(150):
        fake_openai._event(job.id, f"event {i}")
    tracker = EventTracker()
    messages, _ = tracker.update(client, job)
    assert len(messages) == 100 and messages[-1] == "event 149"  # first look: newest page only
    for i in range(150, 370):
        fake_openai._event(
            job.id,
            f"event {i}",
            data={"step": i, "total_steps": 400, "train_loss": 0.5},
            type_="metrics",
        )
    messages, progress = tracker.update(client, job)
    assert messages[100:] == [f"event {i}" for i in range(150, 370)]  # paged back to the last seen
    assert progress == {"step": 369, "total_steps": 400, "loss": 0.5}
    assert tracker.update(client, job)[0] == messages
