"""Language identification for German and English, offline.

Function words decide when there are enough of them (a passage full of German names, like
"Wirtschaftsförderung Dortmund", is still English if its grammar is); lingua, whose models ship in
its wheel, decides the rest (short questions).
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

SUPPORTED = ("de", "en")

_DE_WORDS = frozenset(
    """
    der die das den dem des und ist sind war waren wer wen wem wie wo wann warum welche welcher welches welchem
    welchen nicht ein eine einen einem einer auch mit für auf von zu zum zur im bei seit über nach noch oder sich
    sie er es wir ich hat haben wird werden wurde dass gibt kann können dort hier aus als vom durch gegen unter
    laut statt findet
    """.split()
)
_EN_WORDS = frozenset(
    """
    the and is are were who whom how where when what which why not a also with for on of to at by since about
    after still or it they he she we i has have would been that there can could here from as into its their
    this these those does did do
    """.split()
)
FUNCTION_WORDS = _DE_WORDS | _EN_WORDS
# Words both languages use ("in", "an", "was", "will", "am") vote for neither.
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)


@lru_cache(maxsize=1)
def _detector() -> Any:
    from lingua import Language, LanguageDetectorBuilder

    return LanguageDetectorBuilder.from_languages(Language.GERMAN, Language.ENGLISH).build()


def _function_word_vote(text: str) -> tuple[int, int]:
    words = [w.lower() for w in _WORD.findall(text)]
    return sum(w in _DE_WORDS for w in words), sum(w in _EN_WORDS for w in words)


def detect_language(text: str, default: str = "en") -> str:
    """Return 'de' or 'en'; ``default`` for text with no letters."""
    if not _WORD.search(text):
        return default
    de, en = _function_word_vote(text)
    if de + en >= 4 and max(de, en) >= 2 * min(de, en):
        return "de" if de > en else "en"
    if de != en and len(_WORD.findall(text)) <= 12:
        # A short question: its few function words beat statistics skewed by names ("Fachhochschule").
        return "de" if de > en else "en"
    if re.search(r"[äöüß]", text, re.I) and de >= en and de > 0:
        return "de"
    from lingua import Language

    result = _detector().detect_language_of(text)
    if result == Language.GERMAN:
        return "de"
    if result == Language.ENGLISH:
        return "en"
    return default
