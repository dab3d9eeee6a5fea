"""Language identification, offline, among the languages of this folder's files (German and English).

Function words decide when there are enough of them (a passage full of German names, like
„Handelskammer Musterstadt“, is still English if its grammar is); lingua, whose models ship in its wheel, decides
the rest (short questions). The words themselves are data: ``<code>.yaml`` here (see ``resources``).
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from .resources import Language, LanguageDataError, LanguageResources, load_resources, resources

__all__ = [
    "FUNCTION_WORDS",
    "SUPPORTED",
    "Language",
    "LanguageDataError",
    "LanguageResources",
    "detect_language",
    "load_detector",
    "load_resources",
    "resources",
]

_LANGUAGES = resources().languages
SUPPORTED = tuple(_LANGUAGES)
# Words both languages use ("in", "an", "was", "will", "am") stand in neither list and vote for neither.
_VOTES = {code: language.detection_words for code, language in _LANGUAGES.items()}
FUNCTION_WORDS = frozenset().union(*_VOTES.values())
_SPECIAL = {
    code: re.compile(f"[{re.escape(language.special_letters)}]", re.I)
    for code, language in _LANGUAGES.items()
    if language.special_letters
}
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)


@lru_cache(maxsize=1)
def _detector() -> Any:
    """lingua's detector with every n-gram model of ``SUPPORTED`` loaded now (~70 MB for two languages).

    Left lazy, lingua loads a text length's models at the first text of that length it sees: in a server that
    was a step of 34–100 MB in memory and a 0.3–0.5 s pause for whichever visitor first asked an ambiguous short
    question, minutes after the start (``evals.bench_load`` saw it as memory that is not flat)."""
    from lingua import IsoCode639_1, LanguageDetectorBuilder
    from lingua import Language as Lingua

    languages = [Lingua.from_iso_code_639_1(IsoCode639_1.from_str(code)) for code in SUPPORTED]
    return LanguageDetectorBuilder.from_languages(*languages).with_preloaded_language_models().build()


def load_detector() -> None:
    """Load the statistical detector now (a server's warm-up), not at the first question that needs it."""
    _detector()


def _function_word_vote(text: str) -> dict[str, int]:
    words = [w.lower() for w in _WORD.findall(text)]
    return {code: sum(w in votes for w in words) for code, votes in _VOTES.items()}


def detect_language(text: str, default: str = "en") -> str:
    """The code of one of ``SUPPORTED`` ('de' or 'en'); ``default`` for text with no letters."""
    if not _WORD.search(text):
        return default
    votes = _function_word_vote(text)
    ranked = sorted(votes, key=lambda code: -votes[code])
    top, second = votes[ranked[0]], (votes[ranked[1]] if len(ranked) > 1 else 0)
    if sum(votes.values()) >= 4 and top >= 2 * second:
        return ranked[0]
    if top != second and len(_WORD.findall(text)) <= 12:
        # A short question: its few function words beat statistics skewed by names ("Fachhochschule").
        return ranked[0]
    for language, letters in _SPECIAL.items():  # "ä" is German, when German's words are not outvoted
        if letters.search(text) and votes[language] == top and top > 0:
            return language
    result = _detector().detect_language_of(text)
    found = result.iso_code_639_1.name.lower() if result is not None else None
    return found if found in SUPPORTED else default
