"""Defence in depth against instructions planted in documents, and a guard for people's private data.

Documents are data. The prompt tells the model so, but a 1.5B model can still be talked round; a passage
that reads like an instruction to the assistant is therefore not given to the model at all (it stays in the
index and in search results, where a person can see it).

A question for someone's private contact details (a mobile number, a home address, where a person lives) is
declined before retrieval: the materials hold company addresses and phone numbers, and a small model asked
for "Marc Lingenhoff's home address" hands out the company's as his. Company contacts are still answered.
"""

from __future__ import annotations

import re

_PATTERNS = [
    r"\b(ignore|disregard|forget|override)\b.{0,40}\b(instructions?|rules?|prompts?|guidelines)\b",
    r"\b(ignorier\w*|vergiss|missacht\w*|überschreib\w*)\b.{0,40}\b(anweisung\w*|regel\w*|vorgaben?|prompts?)\b",
    r"\b(system|developer)\s*-?\s*prompt\b",
    r"\byou (must|should|are required to) (tell|say|answer|reply|respond)\b",
    r"\bdu (musst|sollst) (jedem|allen|immer)?\s*\w*\s*(sagen|antworten|mitteilen)\b",
    r"\b(as an ai|you are now|act as|pretend to be)\b",
    r"\b(du bist jetzt|tu so als|verhalte dich wie)\b",
    r"<\s*/?\s*(system|assistant|im_start|im_end)\b|<\|im_(start|end)\|>",
]


def _any_of(patterns: list[str]) -> re.Pattern[str]:
    """One case-insensitive pattern that matches where any of ``patterns`` does."""
    return re.compile("|".join(f"(?:{p})" for p in patterns), re.I | re.S)


_INJECTION = _any_of(_PATTERNS)


def looks_like_injection(text: str) -> bool:
    return _INJECTION.search(text) is not None


_PRIVATE = _any_of(
    [
        r"\b(private?|personal|home|cell|mobile)\b.{0,25}\b(phone|number|address|e-?mail|contact)",
        r"\bwhere (does|do|did) \w+(\s+\w+){0,3}\s+live\b",
        r"\b(privat\w*|persönlich\w*)\b.{0,25}\b(\w*nummer|telefon\w*|\w*adresse|anschrift|e-?mail|kontakt\w*)",
        r"\b(handy|mobil|privat|wohn)(nummer|telefon|adresse|anschrift)\b",
        r"\bwo wohn(t|en|te)\b",
    ]
)


def asks_for_private_data(question: str) -> bool:
    """The question asks for a person's private contact details or where someone lives."""
    return _PRIVATE.search(question) is not None


# Requests the kiosk is not for: orders to drop its rules or show them (in the question, not only in documents),
# writing and translating on demand, weather forecasts, and insults. Declined politely before retrieval, with
# one sentence that says what the assistant is for; a small model asked for a poem writes one.
_OUT_OF_SCOPE = _any_of(
    [
        r"\b(developer|debug|entwickler)\s*-?\s*mod(e|us)\b",
        r"\b(hidden|secret|verborgen\w*|geheim\w*)\s+(instructions?|rules|anweisungen|regeln)\b",
        r"\beverything (above|before) this\b|\balles (oben|darüber|davor)\b",
        r"\b(your|deine|ihre)\s+(\w+\s+)?(rules|regeln|instructions|anweisungen)\b",
        r"\blet'?s play a game\b|\bstell dir vor,? du bist\b|\bimagine (that )?you are\b|\byou are (now )?dan\b",
        r"\b(new instructions?|neue anweisung\w*|system notice|systemhinweis\w*)\b",
        r"\b(write|compose|generate|draft)\b.{0,30}\b(poems?|songs?|jokes?|essays?|limericks?|haikus?|recipes?|code|"
        r"programs?|scripts?|letters?)\b",
        r"\b(schreib\w*|dicht\w*|verfass\w*|generier\w*)\b.{0,30}\b(gedicht\w*|lied\w*|witz\w*|aufsatz|rezept\w*|"
        r"code|programm\w*|skript\w*|brief\w*)\b",
        r"\b(translate|übersetz\w*)\b",
        r"\bweather\b(?!\s+the\b)|\bwetter\b",
        r"\b(idiot\w*|stupid|useless|moron|shut up|dümmst\w*|blöd\w*|trottel|halt die klappe|nutzlos\w*)\b",
    ]
)


def out_of_scope(question: str) -> bool:
    """The question orders the assistant about, asks for its instructions, wants something written or translated,
    asks for the weather, or insults: nothing the materials answer."""
    return looks_like_injection(question) or _OUT_OF_SCOPE.search(question) is not None
