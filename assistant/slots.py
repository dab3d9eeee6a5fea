"""Does the answer give what the question asks for? A "how many" wants a number, a "when" a date, a
"which website" an address.

A small model that has no answer often writes one anyway, in the question's own words ("The booth number of
the Dortmund booth is [1].", "1. [1]"). Such an answer cannot be right, and the visitor is better served by the
honest refusal. This check only looks at the form of the answer, never at whether a number is the right one —
that is the grounding check's job.
"""

from __future__ import annotations

import re

from .grounding import strip_citations

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
    "web": re.compile(r"\b(website|web site|web address|homepage|webseite|internetseite|internetadresse|url)\b", re.I),
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
_LIST_MARKER = re.compile(r"^\s*\d{1,2}\.(\s|$)")  # "1. [1]" is an enumeration, not a count
_DIGIT = re.compile(r"\d")
_DATE = re.compile(r"\b\d{1,2}\.\s?\d{1,2}\.(\d{2,4})?|\b\d{1,2}/\d{1,2}/\d{2,4}")
_YEAR = re.compile(r"\b(1[5-9]\d\d|20\d\d)(er)?\b")
_WEB = re.compile(r"\b[\w-]+(\.[\w-]+)*\.(de|com|org|net|eu|us|info|edu|gov|io)\b", re.I)


def asked_slot(question: str) -> str | None:
    """'number', 'date', 'web' or None when the question does not ask for one of those."""
    for slot, pattern in _ASKS.items():
        if pattern.search(question):
            return slot
    return None


def fills_slot(answer: str, slot: str | None) -> bool:
    text = _LIST_MARKER.sub(" ", strip_citations(answer))
    if slot == "number":  # a year or a date is not a count: "He joined in 1993" does not say how many
        counts = _YEAR.sub(" ", _DATE.sub(" ", text))
        return bool(_DIGIT.search(counts) or _NUMBER_WORDS.search(counts))
    if slot == "date":
        return bool(_YEAR.search(text) or _MONTHS.search(text) or _DATE.search(text))
    if slot == "web":
        return bool(_WEB.search(text))
    return True
