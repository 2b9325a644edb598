"""Provider errors as motools errors, with every secret scrubbed from their messages.

The SDK's exceptions are never re-raised as they are: their messages may quote the API
key (a 401 says "Incorrect API key provided: sk-...") and the engine stores tracebacks.
:func:`translate` turns a user's mistake (bad key, unknown model, invalid file...) into a
:class:`ProviderRequestRejected` (a ``UserError``), and a transient failure (connection,
timeout, 408/409/429/5xx) into :class:`TransientProviderError`, a plain exception the
wait step retries.  Both carry the provider's status, code and scrubbed message.
"""

from __future__ import annotations

import re

from motools.errors import MotoolsError, UserError

_KEY_LIKE = re.compile(r"\b(sk-[A-Za-z0-9]{0,4})[A-Za-z0-9_\-]{8,}")
TRANSIENT_STATUS = frozenset({408, 409, 429})
# 429s that waiting does not cure.
PERMANENT_429_CODES = frozenset(
    {"insufficient_quota", "billing_hard_limit_reached", "quota_exceeded"}
)


def scrub(text: str, *secrets: str) -> str:
    """``text`` with the given secrets and anything shaped like an OpenAI key (``sk-...``) masked."""
    for s in secrets:
        if s:
            text = text.replace(s, "***")
    return _KEY_LIKE.sub(lambda m: m.group(1) + "***", text)


class ProviderRequestRejected(UserError):
    """The endpoint refused a request for a reason the user must fix (key, model, file...)."""

    def __init__(self, message: str, *, status: int | None = None, code: str | None = None):
        super().__init__(message)
        self.status = status
        self.code = code


class ProviderUnavailable(MotoolsError):
    """The endpoint kept failing transiently after every retry."""


class TransientProviderError(Exception):
    """A failure that waiting may cure; deliberately not a MotoolsError so pollers retry."""

    def __init__(
        self, message: str, *, status: int | None = None, retry_after: float | None = None
    ):
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


def _retry_after(exc: BaseException) -> float | None:
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None)
    if headers is None:
        return None
    for header, divisor in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        value = headers.get(header)
        if value is not None:
            try:
                return max(0.0, float(value) / divisor)
            except ValueError:
                continue
    return None


def translate(exc: BaseException, action: str, endpoint: str, api_key: str = "") -> BaseException:
    """The exception to raise instead of the SDK's ``exc`` (secrets scrubbed, no chaining).

    Non-SDK exceptions are returned unchanged.  ``action`` says what was being done
    ("uploading the dataset"), ``endpoint`` where.
    """
    import openai

    if isinstance(exc, openai.APIConnectionError):  # includes timeouts
        kind = "timed out" if isinstance(exc, openai.APITimeoutError) else "could not connect"
        return TransientProviderError(f"{action}: {kind} to {endpoint}")
    if not isinstance(exc, openai.APIStatusError):
        if isinstance(exc, openai.OpenAIError):
            return MotoolsError(f"{action} at {endpoint}: {scrub(str(exc), api_key)}")
        return exc
    status = exc.status_code
    code = exc.code or (str(exc.type) if getattr(exc, "type", None) else None)
    body = exc.body
    message = body.get("message") if isinstance(body, dict) else None
    detail = scrub(str(message or exc.message or ""), api_key)
    label = f"HTTP {status}" + (f" {code}" if code else "")
    text = f"{action}: {endpoint} answered {label}: {detail}"
    if status in TRANSIENT_STATUS or status >= 500:
        if status == 429 and code in PERMANENT_429_CODES:
            return ProviderRequestRejected(text, status=status, code=code)
        return TransientProviderError(text, status=status, retry_after=_retry_after(exc))
    if status == 401:
        text += " (check the key in the environment variable named by options.api_key_env)"
    return ProviderRequestRejected(text, status=status, code=code)
