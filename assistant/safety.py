"""Defence in depth against instructions planted in documents, and a guard for people's private data.

Documents are data. The prompt tells the model so, but a 1.5B model can still be talked round; a passage
that reads like an instruction to the assistant is therefore not given to the model at all (it stays in the
index and in search results, where a person can see it).

A question for someone's private contact details (a mobile number, a home address, where a person lives) is
declined before retrieval: the materials hold company addresses and phone numbers, and a small model asked
for "Person X's home address" hands out the company's as theirs. Company contacts are still answered.

The patterns are data: ``*_patterns`` of the language files (``assistant/lang/``), every language's at once.
"""

from __future__ import annotations

from .lang.resources import any_of, resources

_LANGUAGE = resources()
_INJECTION = any_of(_LANGUAGE.patterns("injection_patterns"))
_PRIVATE = any_of(_LANGUAGE.patterns("private_data_patterns"))
# Requests the kiosk is not for: orders to drop its rules or show them (in the question, not only in documents),
# writing and translating on demand, weather forecasts, and insults. Declined politely before retrieval, with
# one sentence that says what the assistant is for; a small model asked for a poem writes one.
_OUT_OF_SCOPE = any_of(_LANGUAGE.patterns("out_of_scope_patterns"))


def looks_like_injection(text: str) -> bool:
    return _INJECTION.search(text) is not None


def asks_for_private_data(question: str) -> bool:
    """The question asks for a person's private contact details or where someone lives."""
    return _PRIVATE.search(question) is not None


def out_of_scope(question: str) -> bool:
    """The question orders the assistant about, asks for its instructions, wants something written or translated,
    asks for the weather, or insults: nothing the materials answer."""
    return looks_like_injection(question) or _OUT_OF_SCOPE.search(question) is not None
