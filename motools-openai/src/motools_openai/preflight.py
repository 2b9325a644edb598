"""Pre-flight checks run before anything is uploaded: row format and token estimate.

Every row is checked against the chat fine-tuning format (one JSON object per line with
a ``messages`` list; known roles; non-empty content; at least one assistant turn that is
trained on), and the file must have at least :data:`MIN_ROWS` rows, as OpenAI requires.
Problems are reported together, each naming its row number (1-based, counting non-blank
lines; the file line is given too when blank lines make them differ).

Token counting is exact when ``tiktoken`` is installed *and* the model's encoding file
is already in tiktoken's local cache (it is never downloaded).  Otherwise it uses a
documented approximation: ``ceil(characters / 4)`` per message content plus 3 tokens of
overhead per message and 3 per example (the overheads OpenAI's cookbook uses for chat
formatting).  Trained tokens = dataset tokens x epochs.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from motools.errors import UserError

MIN_ROWS = 10
ROLES = ("system", "developer", "user", "assistant", "tool")
TOKENS_PER_MESSAGE = 3
TOKENS_PER_EXAMPLE = 3
MAX_REPORTED_PROBLEMS = 20

# OpenAI's default epoch choice for n_epochs="auto" (from its data-preparation cookbook).
TARGET_EPOCHS = 3
MIN_TARGET_EXAMPLES = 100
MAX_TARGET_EXAMPLES = 25_000
MAX_DEFAULT_EPOCHS = 25

_ENCODING_URLS = {
    "o200k_base": "https://openaipublic.blob.core.windows.net/encodings/o200k_base.tiktoken",
    "cl100k_base": "https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken",
}


@dataclass(frozen=True)
class Preflight:
    """What the pre-flight found: row count, tokens in one pass, how they were counted."""

    n_rows: int
    dataset_tokens: int
    token_count_method: str


def encoding_name(model: str) -> str | None:
    """The tiktoken encoding of an OpenAI model family, or ``None`` for other models."""
    base = model.split(":")[1] if model.startswith("ft:") and ":" in model[3:] else model
    if base.startswith(("gpt-4o", "gpt-4.1", "gpt-5", "o1", "o3", "o4")):
        return "o200k_base"
    if base.startswith(("gpt-3.5", "gpt-4", "davinci-002", "babbage-002")):
        return "cl100k_base"
    return None


def offline_encoder(model: str) -> tuple[Callable[[str], int], str] | None:
    """``(count_tokens, method)`` when tiktoken can tokenise for ``model`` without a download."""
    name = encoding_name(model)
    if name is None:
        return None
    try:
        import tiktoken
    except ImportError:
        return None
    cache_dir = os.environ.get("TIKTOKEN_CACHE_DIR", os.environ.get("DATA_GYM_CACHE_DIR"))
    if cache_dir is None:
        import tempfile

        cache_dir = os.path.join(tempfile.gettempdir(), "data-gym-cache")
    if not cache_dir:
        return None
    import hashlib

    if not os.path.exists(
        os.path.join(cache_dir, hashlib.sha1(_ENCODING_URLS[name].encode()).hexdigest())
    ):
        return None
    try:
        enc = tiktoken.get_encoding(name)
    except Exception:  # a corrupt cache file would trigger a download attempt; fall back
        return None
    return (lambda text: len(enc.encode(text, disallowed_special=()))), f"tiktoken:{name}"


def approx_tokens(text: str) -> int:
    """Approximate token count of ``text``: ceil(characters / 4)."""
    return math.ceil(len(text) / 4)


def _content_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(str(p.get("text", "")) if isinstance(p, dict) else str(p) for p in content)
    return ""


def row_problems(row: Any) -> list[str]:
    """Problems of one row (empty when it is a valid chat fine-tuning example)."""
    if not isinstance(row, dict):
        return [f"expected a JSON object, got {type(row).__name__}"]
    msgs = row.get("messages")
    if not isinstance(msgs, list) or not msgs:
        return ["expected a non-empty 'messages' list"]
    out = []
    trained_assistant = False
    for i, m in enumerate(msgs):
        if not isinstance(m, dict):
            out.append(f"messages[{i}]: expected an object with 'role' and 'content'")
            continue
        role = m.get("role")
        if role not in ROLES:
            out.append(f"messages[{i}].role is {role!r}; expected one of {', '.join(ROLES)}")
            continue
        content = m.get("content")
        calls = m.get("tool_calls") or m.get("function_call")
        if role == "assistant" and content is None and calls:
            pass  # an assistant turn that only calls tools
        elif not isinstance(content, str | list):
            out.append(f"messages[{i}] ({role}): 'content' must be a string")
        elif not _content_text(content).strip() and not (isinstance(content, list) and content):
            out.append(f"messages[{i}] ({role}): 'content' is empty")
        if "weight" in m:
            if role != "assistant" or m["weight"] not in (0, 1) or isinstance(m["weight"], bool):
                out.append(f"messages[{i}]: 'weight' must be 0 or 1 and only on assistant messages")
        if role == "assistant" and m.get("weight", 1) != 0:
            trained_assistant = True
    if not out and not trained_assistant:
        out.append(
            "no assistant message to train on (every example needs at least one assistant turn)"
        )
    return out


def row_tokens(row: dict[str, Any], count: Callable[[str], int]) -> int:
    """Tokens of one valid row under ``count`` plus chat-formatting overhead."""
    n = TOKENS_PER_EXAMPLE
    for m in row["messages"]:
        n += TOKENS_PER_MESSAGE + count(_content_text(m.get("content")))
        if m.get("name"):
            n += 1
        if m.get("tool_calls") or m.get("function_call"):
            n += count(json.dumps(m.get("tool_calls") or m.get("function_call")))
    if row.get("tools"):
        n += count(json.dumps(row["tools"]))
    return n


def run_preflight(path: Path, model: str, source: str) -> Preflight:
    """Check every row of the JSONL file at ``path`` and count its tokens (one pass).

    Raises :class:`UserError` listing the problems (row numbers named) before anything
    is uploaded.  ``source`` names the dataset in messages (e.g. its atom id).
    """
    encoder = offline_encoder(model)
    count, method = encoder if encoder else (approx_tokens, "approx:chars/4+overhead")
    problems: list[str] = []
    n_problems = 0
    rows = tokens = 0
    with open(path, encoding="utf-8") as f:
        for line_no, line in enumerate(f, start=1):
            if not line.strip():
                continue
            rows += 1
            where = f"row {rows}" + (f" (line {line_no})" if line_no != rows else "")
            try:
                row = json.loads(line)
            except json.JSONDecodeError as e:
                found = [f"not valid JSON: {e.msg}"]
            else:
                found = row_problems(row)
            if found:
                n_problems += len(found)
                problems.extend(
                    f"{where}: {p}" for p in found[: max(0, MAX_REPORTED_PROBLEMS - len(problems))]
                )
                continue
            tokens += row_tokens(row, count)
    if rows < MIN_ROWS:
        problems.insert(0, f"has {rows} row(s); chat fine-tuning needs at least {MIN_ROWS}")
        n_problems += 1
    if problems:
        more = (
            f"\n  ... and {n_problems - len(problems)} more" if n_problems > len(problems) else ""
        )
        raise UserError(
            f"dataset {source} is not valid for chat fine-tuning (nothing was uploaded):\n  "
            + "\n  ".join(problems)
            + more
        )
    return Preflight(rows, tokens, method)


def effective_epochs(n_epochs: Any, n_rows: int) -> int:
    """Epochs a job will run: the given number, or OpenAI's choice for ``"auto"``/unset."""
    if isinstance(n_epochs, int) and not isinstance(n_epochs, bool):
        return n_epochs
    if n_rows * TARGET_EPOCHS < MIN_TARGET_EXAMPLES:
        return min(MAX_DEFAULT_EPOCHS, math.ceil(MIN_TARGET_EXAMPLES / max(n_rows, 1)))
    if n_rows * TARGET_EPOCHS > MAX_TARGET_EXAMPLES:
        return max(1, MAX_TARGET_EXAMPLES // n_rows)
    return TARGET_EPOCHS
