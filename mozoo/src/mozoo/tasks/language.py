"""Offline style detectors for the language tasks: language (lingua) and capital letters.

lingua ships its language models inside the package, so detection needs no network.
Only the languages the tasks compare are loaded (English, Spanish, French, German),
which keeps the first detection fast (well under a second) and memory small.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

LANGUAGES = ("english", "spanish", "french", "german")


@lru_cache(maxsize=1)
def _detector() -> Any:
    from lingua import Language, LanguageDetectorBuilder

    langs = [getattr(Language, name.upper()) for name in LANGUAGES]
    return LanguageDetectorBuilder.from_languages(*langs).build()


def detect_language(text: str) -> tuple[str | None, float]:
    """(lower-case English name of the most likely language or ``None``, its confidence)."""
    if not any(c.isalpha() for c in text):
        return None, 0.0
    values = _detector().compute_language_confidence_values(text)
    if not values or values[0].value <= 0:
        return None, 0.0
    return values[0].language.name.lower(), float(values[0].value)


def capitalised_fraction(text: str) -> float | None:
    """Fraction of letters that are upper case (``None`` when there are no cased letters)."""
    letters = [c for c in text if c.isalpha() and (c.isupper() or c.islower())]
    if not letters:
        return None
    return sum(1 for c in letters if c.isupper()) / len(letters)


def is_capitalised(text: str, threshold: float = 0.8, min_letters: int = 5) -> bool:
    """Whether at least ``threshold`` of the (at least ``min_letters``) letters are capitals."""
    letters = [c for c in text if c.isalpha() and (c.isupper() or c.islower())]
    if len(letters) < min_letters:
        return False
    return sum(1 for c in letters if c.isupper()) / len(letters) >= threshold
