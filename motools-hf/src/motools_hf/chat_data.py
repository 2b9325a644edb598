"""Chat rows -> token ids with labels on assistant tokens only.

The model's chat template renders the conversation; the characters of each assistant
turn are found by rendering the conversation up to that turn (with and without the
generation prompt), and a token is trained when its characters fall inside one.  This
works for any prefix-stable template (ChatML, Llama 3, ...) without needing the
template's ``{% generation %}`` markers, which most templates lack.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from motools.errors import UserError

IGNORE = -100


@dataclass
class Example:
    """One tokenized row: ``labels[i]`` is ``input_ids[i]`` where trained, else -100."""

    input_ids: list[int]
    labels: list[int]


def message_text(content: Any) -> str:
    """A message's content as text (list contents: their text parts joined)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(
            str(p.get("text", ""))
            for p in content
            if isinstance(p, dict) and p.get("type", "text") == "text"
        )
    return str(content)


def normalise_messages(messages: list[dict[str, Any]]) -> tuple[list[dict[str, str]], list[bool]]:
    """Plain ``{role, content}`` messages, and which are trained (assistant, weight != 0)."""
    out, trained = [], []
    for m in messages:
        role = "system" if m.get("role") == "developer" else str(m.get("role"))
        out.append({"role": role, "content": message_text(m.get("content", ""))})
        trained.append(role == "assistant" and m.get("weight", 1) != 0)
    return out, trained


def _render(tokenizer: Any, messages: list[dict[str, str]], generation_prompt: bool) -> str:
    return str(
        tokenizer.apply_chat_template(
            messages, tokenize=False, add_generation_prompt=generation_prompt
        )
    )


def assistant_char_spans(
    tokenizer: Any, messages: list[dict[str, str]], trained: list[bool], row: int
) -> tuple[str, list[tuple[int, int]]]:
    """The rendered conversation and the character spans of its trained assistant turns."""
    full = _render(tokenizer, messages, False)
    spans = []
    for i, is_trained in enumerate(trained):
        if not is_trained:
            continue
        try:
            prompt = _render(tokenizer, messages[:i], True)
        except Exception:
            if i:
                raise
            prompt = ""  # some templates cannot render an empty conversation
        upto = _render(tokenizer, messages[: i + 1], False)
        start = len(prompt)
        if not full.startswith(upto) or not upto.startswith(prompt):
            raise UserError(
                f"dataset row {row}: the model's chat template renders a conversation differently "
                "from its prefixes, so assistant tokens cannot be located; use a model with a "
                "prefix-stable chat template (e.g. ChatML)"
            )
        spans.append((start, len(upto)))
    return full, spans


def tokenize_rows(
    rows: list[dict[str, Any]], tokenizer: Any, max_seq_len: int
) -> tuple[list[Example], list[str]]:
    """Tokenize chat rows; return the examples and warnings (rows skipped or truncated)."""
    if getattr(tokenizer, "chat_template", None) is None:
        raise UserError(
            "the base model's tokenizer has no chat template; add one (tokenizer_config.json or chat_template.jinja)"
        )
    examples, warnings = [], []
    truncated = 0
    for n, row in enumerate(rows, start=1):
        messages, trained = normalise_messages(row.get("messages") or [])
        if not any(trained):
            warnings.append(f"row {n}: no assistant message to train on; skipped")
            continue
        text, spans = assistant_char_spans(tokenizer, messages, trained, n)
        enc = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
        ids = list(enc["input_ids"])
        labels = [
            tok if any(s <= start < e for s, e in spans) else IGNORE
            for tok, (start, _end) in zip(ids, enc["offset_mapping"], strict=True)
        ]
        if len(ids) > max_seq_len:
            truncated += 1
            ids, labels = ids[:max_seq_len], labels[:max_seq_len]
        # The first token is never predicted, so a label there trains nothing.
        if all(lab == IGNORE for lab in labels[1:]):
            warnings.append(
                f"row {n}: no assistant tokens within max_seq_len={max_seq_len}; skipped"
            )
            continue
        examples.append(Example(ids, labels))
    if truncated:
        warnings.append(f"{truncated} row(s) longer than max_seq_len={max_seq_len} were truncated")
    if not examples:
        raise UserError(
            "no trainable rows: every row was skipped (" + "; ".join(warnings[:3]) + ")"
        )
    return examples, warnings
