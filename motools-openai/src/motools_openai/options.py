"""Backend options and hyperparameters of the ``openai`` backend, validated.

Options (``submit_training.options``) say *where* to train: the endpoint (``base_url``,
else ``OPENAI_BASE_URL``, else OpenAI), the *name* of the environment variable holding
the API key, and optional organization/project.  Keys themselves never appear in a
config: a config is stored in provenance, so it must stay secret-free.
"""

from __future__ import annotations

import difflib
import os
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from motools.errors import BackendUnavailable, ConfigError

DEFAULT_BASE_URL = "https://api.openai.com/v1"
DEFAULT_KEY_ENV = "OPENAI_API_KEY"

OPTION_KEYS = (
    "base_url",
    "api_key_env",
    "organization",
    "project",
    "price_per_1m_training_tokens",
    "attempt",
)
HYPERPARAMETER_KEYS = ("n_epochs", "batch_size", "learning_rate_multiplier", "seed")

_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _unknown(where: str, key: str, allowed: tuple[str, ...]) -> ConfigError:
    msg = f"{where}: unknown key {key!r}"
    close = difflib.get_close_matches(key, allowed, n=1)
    if close:
        msg += f" (did you mean {close[0]!r}?)"
    return ConfigError(f"{msg}; allowed keys: {', '.join(allowed)}")


@dataclass(frozen=True)
class Endpoint:
    """Where jobs go and which env var holds the key (never the key itself)."""

    base_url: str
    api_key_env: str = DEFAULT_KEY_ENV
    organization: str | None = None
    project: str | None = None

    def identity(self) -> dict[str, Any]:
        """Cache-key material: the endpoint (and org/project when set); no secrets."""
        ident: dict[str, Any] = {"endpoint": self.base_url}
        if self.organization:
            ident["organization"] = self.organization
        if self.project:
            ident["project"] = self.project
        return ident

    @property
    def kv_prefix(self) -> str:
        """Prefix of store kv keys that belong to this endpoint."""
        return "|".join([self.base_url, self.organization or "", self.project or ""])

    def api_key(self) -> str:
        """The API key from the environment; a clear error (without any value) if unset."""
        key = os.environ.get(self.api_key_env, "").strip()
        if not key:
            raise BackendUnavailable(
                f"openai backend: the environment variable {self.api_key_env} is not set, so "
                f"there is no API key for {self.base_url}. Set {self.api_key_env} to the key "
                "of that endpoint (or name another variable with options.api_key_env). "
                "Nothing was uploaded or submitted."
            )
        from motools.workflow.config import add_secret

        add_secret(key)  # whatever the variable is called, the key is redacted everywhere
        return key

    def to_handle(self) -> dict[str, Any]:
        """The endpoint as stored in a job handle (names only)."""
        return {
            "endpoint": self.base_url,
            "api_key_env": self.api_key_env,
            "organization": self.organization,
            "project": self.project,
        }

    @classmethod
    def from_handle(cls, handle: dict[str, Any]) -> Endpoint:
        """The endpoint recorded in a job handle (so a re-attach polls the same place)."""
        return cls(
            base_url=str(handle.get("endpoint") or DEFAULT_BASE_URL),
            api_key_env=str(handle.get("api_key_env") or DEFAULT_KEY_ENV),
            organization=handle.get("organization") or None,
            project=handle.get("project") or None,
        )


@dataclass(frozen=True)
class OpenAIOptions:
    """Validated ``options`` of the backend."""

    endpoint: Endpoint
    price_per_1m_training_tokens: float | None = None
    attempt: int = 1


def normalise_base_url(url: str, where: str) -> str:
    """Strip trailing slashes; refuse URLs that are not http(s) or carry credentials."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(f"{where}: expected an http(s) URL such as {DEFAULT_BASE_URL}")
    if parts.username or parts.password:
        # Never echo the URL: the credentials in it are secrets.
        raise ConfigError(
            f"{where}: the URL contains credentials; put the key in an environment variable and name it with options.api_key_env"
        )
    return url.strip().rstrip("/")


def parse_options(options: dict[str, Any] | None) -> OpenAIOptions:
    """Validate ``options`` and resolve the endpoint; :class:`ConfigError` on mistakes."""
    options = dict(options or {})
    for key in options:
        if key in ("api_key", "key", "token"):
            raise ConfigError(
                f"options.{key}: do not put API keys in a config (configs are stored with the "
                "results); put the key in an environment variable and name it with options.api_key_env"
            )
        if key not in OPTION_KEYS:
            raise _unknown("options", key, OPTION_KEYS)
    raw_url = options.get("base_url")
    if raw_url is not None and not isinstance(raw_url, str):
        raise ConfigError("options.base_url: expected a URL string")
    if raw_url:
        base_url = normalise_base_url(raw_url, "options.base_url")
    elif os.environ.get("OPENAI_BASE_URL", "").strip():
        base_url = normalise_base_url(
            os.environ["OPENAI_BASE_URL"], "environment variable OPENAI_BASE_URL"
        )
    else:
        base_url = DEFAULT_BASE_URL
    key_env = options.get("api_key_env", DEFAULT_KEY_ENV)
    if not isinstance(key_env, str) or not _ENV_NAME.match(key_env):
        # Do not echo the value: a user may have pasted the key itself here.
        raise ConfigError(
            "options.api_key_env: expected the *name* of an environment variable (e.g. OPENAI_API_KEY), not a key"
        )
    for name in ("organization", "project"):
        val = options.get(name)
        if val is not None and not isinstance(val, str):
            raise ConfigError(f"options.{name}: expected a string, got {type(val).__name__}")
    price = options.get("price_per_1m_training_tokens")
    if price is not None and (
        isinstance(price, bool) or not isinstance(price, int | float) or price < 0
    ):
        raise ConfigError(
            f"options.price_per_1m_training_tokens: expected a non-negative number of USD, got {price!r}"
        )
    attempt = options.get("attempt", 1)
    if isinstance(attempt, bool) or not isinstance(attempt, int) or attempt < 1:
        raise ConfigError(f"options.attempt: expected an integer >= 1, got {attempt!r}")
    endpoint = Endpoint(
        base_url, key_env, options.get("organization") or None, options.get("project") or None
    )
    return OpenAIOptions(endpoint, None if price is None else float(price), attempt)


def _int_or_auto(name: str, value: Any, minimum: int) -> int | str:
    if value == "auto":
        return "auto"
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ConfigError(
            f"hyperparameters.{name}: expected an integer >= {minimum} or 'auto', got {value!r}"
        )
    return value


def validate_hyperparameters(hyperparameters: dict[str, Any]) -> dict[str, Any]:
    """Normalised supervised fine-tuning hyperparameters; :class:`ConfigError` on mistakes."""
    out: dict[str, Any] = {}
    for key, value in dict(hyperparameters or {}).items():
        if key not in HYPERPARAMETER_KEYS:
            raise _unknown("hyperparameters", key, HYPERPARAMETER_KEYS)
        if key == "n_epochs":
            out[key] = _int_or_auto(key, value, 1)
        elif key == "batch_size":
            out[key] = _int_or_auto(key, value, 1)
        elif key == "learning_rate_multiplier":
            if value != "auto" and (
                isinstance(value, bool) or not isinstance(value, int | float) or value <= 0
            ):
                raise ConfigError(
                    f"hyperparameters.learning_rate_multiplier: expected a number > 0 or 'auto', got {value!r}"
                )
            out[key] = value if value == "auto" else float(value)
        elif key == "seed":
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 2**31 - 1:
                raise ConfigError(
                    f"hyperparameters.seed: expected an integer in [0, 2147483647], got {value!r}"
                )
            out[key] = value
    return out
