"""Does the answer give what the question asks for? A "how many" wants a number, a "when" a date, a
"which website" an address, a "what is the name of" a name the question does not already hold. And a "how many
… today" is not answered by a figure the materials date years before the fair.

A small model that has no answer often writes one anyway, in the question's own words ("The booth number of
the firm's booth is [1].", "1. [1]"). Such an answer cannot be right, and the visitor is better served by the
honest refusal. This check only looks at the form of the answer, never at whether a number is the right one —
that is the grounding check's job.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from .chunking import split_sentences
from .grounding import strip_citations
from .lang.resources import alternation, resources

_LANGUAGE = resources()
# The words of a question after a website.
WEB_WORDS = _LANGUAGE.words("web_words")


def _words(section: str) -> re.Pattern[str]:
    return re.compile(rf"\b{alternation(_LANGUAGE.words(section))}\b", re.I)


_ASKS = {  # the first that a question matches is the slot it asks for
    "number": _words("number_questions"),
    "date": _words("date_questions"),
    "web": _words("web_words"),
    "name": _words("name_questions"),
}
_NUMBER_WORDS = _words("number_words")
_CALENDAR = alternation(_LANGUAGE.mapping("months"))
_MONTHS = re.compile(rf"\b(?:{_CALENDAR}|{alternation(_LANGUAGE.words('seasons'))})\b", re.I)
_ORDINAL = alternation(_LANGUAGE.words("ordinal_suffixes"))
_OF = alternation(_LANGUAGE.words("date_prepositions"))
_DAY_OF_MONTH = re.compile(  # "February 29", "29 February", "29. Februar": a date, not a count
    rf"\b\d{{1,2}}(?:{_ORDINAL}|\.)?\s+(?:{_OF}\s+)?{_CALENDAR}\b|\b{_CALENDAR}\s+\d{{1,2}}{_ORDINAL}?\b",
    re.I,
)
_LIST_MARKER = re.compile(r"^\s*\d{1,2}\.(\s|$)")  # "1. [1]" is an enumeration, not a count
_DIGIT = re.compile(r"\d")
_DATE = re.compile(r"\b\d{1,2}\.\s?\d{1,2}\.(\d{2,4})?|\b\d{1,2}/\d{1,2}/\d{2,4}")
_YEAR = re.compile(r"\b(1[5-9]\d\d|20\d\d)(er)?\b")
_WEB = re.compile(rf"\b[\w-]+(\.[\w-]+)*\.{alternation(_LANGUAGE.words('domain_endings'))}\b", re.I)


_CAPITALISED = re.compile(r"(?<![\w-])[A-ZÄÖÜ][\w.'-]*")
_NOT_NAMES = set(_LANGUAGE.words("not_names"))
_NOW = _words("now_words")
_YEARS = re.compile(r"\b(19\d\d|20\d\d)\b")
_FIGURE = re.compile(r"\d+(?:[.,\u00a0\u202f']\d+)*")


def asked_slot(question: str) -> str | None:
    """'number', 'date', 'web', 'name' or None when the question does not ask for one of those."""
    for slot, pattern in _ASKS.items():
        if pattern.search(question):
            return slot
    return None


def fills_slot(answer: str, slot: str | None, question: str = "", sources: Sequence[str] = ()) -> bool:
    """The answer gives a value of the kind ``slot`` asks for. With ``sources``, a count in words must be one of
    theirs: "Two sources give the number of guests [1] [3]" names no count the passages hold (a count in digits is
    held to the passages by the check of numbers already)."""
    text = _LIST_MARKER.sub(" ", strip_citations(answer))
    if slot == "name":  # "The governor … is [1]." names nobody: a capitalised word the question did not have
        asked = {w.lower() for w in re.findall(r"[\w.'-]+", question)}
        return any(w.lower() not in asked and w.lower() not in _NOT_NAMES for w in _CAPITALISED.findall(text))
    if slot == "number":  # a year or a date is not a count: "He joined in 1993" does not say how many
        counts = _YEAR.sub(" ", _DAY_OF_MONTH.sub(" ", _DATE.sub(" ", text)))
        if _DIGIT.search(counts):
            return True
        words = {m.group(0).lower() for m in _NUMBER_WORDS.finditer(counts)}
        if not sources:
            return bool(words)
        held = {m.group(0).lower() for source in sources for m in _NUMBER_WORDS.finditer(source)}
        return bool(words & held)
    if slot == "date":
        return bool(_YEAR.search(text) or _MONTHS.search(text) or _DATE.search(text))
    if slot == "web":
        return bool(_WEB.search(text))
    return True


def asks_about_now(question: str) -> bool:
    return _NOW.search(question) is not None


def dated_figure(answer: str, sources: Sequence[str], present_year: int) -> int | None:
    """The latest year before ``present_year`` that dates every figure of the answer: each count in the answer
    (years and dates aside) stands in the sources only in sentences that name an earlier year ("In 2019 … about
    100 staff"). None when a figure is undated, from ``present_year`` on, or not found."""
    text = _DATE.sub(" ", strip_citations(answer))
    figures = [_digits(f) for f in _FIGURE.findall(text) if not _YEARS.fullmatch(f)]
    if not figures:
        return None
    sentences = [s for source in sources for s in split_sentences(source)]
    latest = 0
    for figure in figures:
        holding = [s for s in sentences if figure in {_digits(f) for f in _FIGURE.findall(s)}]
        if not holding:
            return None
        for sentence in holding:
            years = [int(y) for y in _YEARS.findall(sentence) if _digits(y) != figure]
            if not years or max(years) >= present_year:
                return None
            latest = max(latest, max(years))
    return latest


def _digits(figure: str) -> str:
    return re.sub(r"\D", "", figure)
