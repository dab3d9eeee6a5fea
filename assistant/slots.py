"""Does the answer give what the question asks for? A "how many" wants a number, a "when" a date, a
"which website" an address, a "what is the name of" a name the question does not already hold. And a "how many
… today" is not answered by a figure the materials date years before the fair.

A small model that has no answer often writes one anyway, in the question's own words ("The booth number of
the Dortmund booth is [1].", "1. [1]"). Such an answer cannot be right, and the visitor is better served by the
honest refusal. This check only looks at the form of the answer, never at whether a number is the right one —
that is the grounding check's job.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from .chunking import split_sentences
from .grounding import strip_citations

# The words of a question after a website.
WEB_WORDS = ("website", "web site", "web address", "homepage", "webseite", "internetseite", "internetadresse", "url")
_ASKS = {
    "number": re.compile(
        r"\b(how many|how much|how large|how big|how high|what percentage|what share|"
        r"wie viele|wie viel|wieviele|wieviel|wie hoch|wie groß|wie gross|welchen anteil)\b",
        re.I,
    ),
    "date": re.compile(
        r"\b(when|since when|in which year|in what year|what year|which year|on what date|what date|"
        r"wann|seit wann|bis wann|in welchem jahr|welches jahr|seit welchem jahr|an welchem tag|welches datum)\b",
        re.I,
    ),
    "web": re.compile(rf"\b({'|'.join(WEB_WORDS)})\b", re.I),
    "name": re.compile(
        r"\b(wie heißt|wie heisst|wie hieß|wie hiess|wie lautet der name|welchen namen|what is the name|"
        r"what was the name|what's the name|whats the name)\b",
        re.I,
    ),
}

_NUMBER_WORDS = re.compile(
    r"\b(one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|dozen|dozens|hundreds?|thousands?|"
    r"million|billion|eins?|eine[rnms]?|zwei|drei|vier|fünf|sechs|sieben|acht|neun|zehn|elf|zwölf|dutzend|"
    r"hundert|tausend|millionen?|milliarden?)\b",
    re.I,
)
_MONTHS = re.compile(
    r"\b(january|february|march|april|may|june|july|august|september|october|november|december|"
    r"januar|jänner|februar|märz|mai|juni|juli|oktober|dezember|spring|summer|autumn|fall|winter|"
    r"frühjahr|frühling|sommer|herbst)\b",
    re.I,
)
_CALENDAR = (
    "january|february|march|april|may|june|july|august|september|october|november|december|"
    "januar|jänner|februar|märz|mai|juni|juli|oktober|dezember"
)
_DAY_OF_MONTH = re.compile(  # "February 29", "29 February", "29. Februar": a date, not a count
    rf"\b\d{{1,2}}(?:st|nd|rd|th|\.)?\s+(?:of\s+)?(?:{_CALENDAR})\b|\b(?:{_CALENDAR})\s+\d{{1,2}}(?:st|nd|rd|th)?\b",
    re.I,
)
_LIST_MARKER = re.compile(r"^\s*\d{1,2}\.(\s|$)")  # "1. [1]" is an enumeration, not a count
_DIGIT = re.compile(r"\d")
_DATE = re.compile(r"\b\d{1,2}\.\s?\d{1,2}\.(\d{2,4})?|\b\d{1,2}/\d{1,2}/\d{2,4}")
_YEAR = re.compile(r"\b(1[5-9]\d\d|20\d\d)(er)?\b")
_WEB = re.compile(r"\b[\w-]+(\.[\w-]+)*\.(de|com|org|net|eu|us|info|edu|gov|io)\b", re.I)


_CAPITALISED = re.compile(r"(?<![\w-])[A-ZÄÖÜ][\w.'-]*")
_NOT_NAMES = set(
    "der die das den dem des ein eine einer the a an er sie es he she it his her its their sein seine ihr ihre "
    "dies diese dieser this that these laut according name named heißt hieß ist war is was".split()
)
_NOW = re.compile(
    r"\b(today|currently|current|now|nowadays|at present|heute|heutige\w*|aktuell\w*|derzeit\w*|zurzeit|"
    r"momentan\w*|gegenwärtig\w*|jetzt)\b",
    re.I,
)
_YEARS = re.compile(r"\b(19\d\d|20\d\d)\b")
_FIGURE = re.compile(r"\d+(?:[.,\u00a0\u202f']\d+)*")


def asked_slot(question: str) -> str | None:
    """'number', 'date', 'web', 'name' or None when the question does not ask for one of those."""
    for slot, pattern in _ASKS.items():
        if pattern.search(question):
            return slot
    return None


def fills_slot(answer: str, slot: str | None, question: str = "") -> bool:
    text = _LIST_MARKER.sub(" ", strip_citations(answer))
    if slot == "name":  # "The governor … is [1]." names nobody: a capitalised word the question did not have
        asked = {w.lower() for w in re.findall(r"[\w.'-]+", question)}
        return any(w.lower() not in asked and w.lower() not in _NOT_NAMES for w in _CAPITALISED.findall(text))
    if slot == "number":  # a year or a date is not a count: "He joined in 1993" does not say how many
        counts = _YEAR.sub(" ", _DAY_OF_MONTH.sub(" ", _DATE.sub(" ", text)))
        return bool(_DIGIT.search(counts) or _NUMBER_WORDS.search(counts))
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
