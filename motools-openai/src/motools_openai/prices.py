"""Versioned price table for supervised fine-tuning, in USD per 1M trained tokens.

Each table is dated: the version names the day its prices were copied from the
provider's pricing page, and estimates record which version they used, so an old
estimate can be explained after prices change.  Add a new dated table rather than
editing an old one.  Prices change; treat every figure here as an estimate and check
https://platform.openai.com/docs/pricing before spending large sums.

OpenAI-compatible endpoints price differently: pass ``options.price_per_1m_training_tokens``
to price a model this table does not know (otherwise the cost estimate is ``None``).
"""

from __future__ import annotations

# version -> {base model snapshot: USD per 1M trained tokens}
PRICE_TABLES: dict[str, dict[str, float]] = {
    "2025-06-01": {
        "gpt-4.1-2025-04-14": 25.00,
        "gpt-4.1-mini-2025-04-14": 5.00,
        "gpt-4.1-nano-2025-04-14": 1.50,
        "gpt-4o-2024-08-06": 25.00,
        "gpt-4o-mini-2024-07-18": 3.00,
        "gpt-3.5-turbo-0125": 8.00,
        "gpt-3.5-turbo-1106": 8.00,
        "gpt-3.5-turbo-0613": 8.00,
        "davinci-002": 6.00,
        "babbage-002": 0.40,
    },
}

CURRENT_VERSION = "2025-06-01"

# Aliases the fine-tuning API resolves to a snapshot.
ALIASES: dict[str, str] = {
    "gpt-4.1": "gpt-4.1-2025-04-14",
    "gpt-4.1-mini": "gpt-4.1-mini-2025-04-14",
    "gpt-4.1-nano": "gpt-4.1-nano-2025-04-14",
    "gpt-4o": "gpt-4o-2024-08-06",
    "gpt-4o-mini": "gpt-4o-mini-2024-07-18",
    "gpt-3.5-turbo": "gpt-3.5-turbo-0125",
}


def base_snapshot(model: str) -> str:
    """The base snapshot a model name trains on (``ft:<base>:...`` continues from ``<base>``)."""
    if model.startswith("ft:"):
        parts = model.split(":")
        if len(parts) > 1 and parts[1]:
            model = parts[1]
    return ALIASES.get(model, model)


def price_per_million(model: str, version: str = CURRENT_VERSION) -> float | None:
    """USD per 1M trained tokens for ``model`` in table ``version``; ``None`` if unknown."""
    table = PRICE_TABLES[version]
    return table.get(base_snapshot(model))


def training_cost_usd(
    trained_tokens: int | None,
    model: str,
    override_per_million: float | None = None,
    version: str = CURRENT_VERSION,
) -> float | None:
    """Cost of ``trained_tokens`` (already multiplied by epochs); ``None`` when unpriced."""
    if trained_tokens is None:
        return None
    price = (
        override_per_million
        if override_per_million is not None
        else price_per_million(model, version)
    )
    if price is None:
        return None
    return round(trained_tokens * price / 1_000_000, 4)
