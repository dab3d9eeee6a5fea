"""Language identification for German and English, offline (lingua ships its models in the wheel)."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

SUPPORTED = ("de", "en")

# Cheap hints that settle very short texts where statistics have too little to go on.
_DE_HINTS = re.compile(
    r"\b(und|der|die|das|ist|wer|wie|wo|wann|was|welche[rsnm]?|gibt|nicht|ich|sie|mit|für|über|seit|auf)\b|[äöüß]",
    re.I,
)
_EN_HINTS = re.compile(r"\b(the|and|is|who|how|where|when|what|which|does|did|with|for|about|since|of)\b", re.I)


@lru_cache(maxsize=1)
def _detector() -> Any:
    from lingua import Language, LanguageDetectorBuilder

    return (
        LanguageDetectorBuilder.from_languages(Language.GERMAN, Language.ENGLISH)
        .with_preloaded_language_models()
        .build()
    )


def detect_language(text: str, default: str = "en") -> str:
    """Return 'de' or 'en'. Falls back to ``default`` for text with no letters."""
    letters = re.sub(r"[^\w]+", " ", text).strip()
    if not letters or not re.search(r"[^\W\d_]", letters):
        return default
    if len(letters) < 24:
        de, en = len(_DE_HINTS.findall(text)), len(_EN_HINTS.findall(text))
        if de != en:
            return "de" if de > en else "en"
    from lingua import Language

    result = _detector().detect_language_of(text)
    if result == Language.GERMAN:
        return "de"
    if result == Language.ENGLISH:
        return "en"
    return default
