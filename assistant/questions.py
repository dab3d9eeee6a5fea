"""The one check every entry point applies to a visitor's question before any work is done.

A question arrives from a browser, a JSON body or a terminal and may hold what no person typed on purpose: lone
surrogates (no encoder takes them: the language detector raised, a JSON response failed), zero-width and control
characters, a question made of emoji or punctuation only. ``clean_question`` normalises once (nothing downstream,
language detection included, sees the raw text); ``accepted_question`` refuses, in the visitor's language.
"""

from __future__ import annotations

import re

from .errors import QuestionRejected
from .lang.resources import resources
from .printable import visible

FALLBACK = "en"  # the language of the messages for a language without a file
_LETTER = re.compile(r"[^\W\d_]")


def clean_question(question: str) -> str:
    """NFC, without surrogates, zero-width or control characters, whitespace tidied. Never raises."""
    return " ".join(visible(question).split())


def accepted_question(question: str, max_chars: int, language: str, *, letters: bool = True) -> str:
    """The question cleaned (``clean_question``); refused politely, in ``language``, when empty, too long, or
    (with ``letters``) without a single letter: emoji, digits or punctuation alone ask nothing an answer could
    be grounded on. A passage search (``letters=False``) may look up a bare number."""
    text = clean_question(question)
    words = resources().get(language) or resources().languages[FALLBACK]
    if not text:
        raise QuestionRejected(words.empty_question)
    if len(text) > max_chars:
        raise QuestionRejected(words.question_too_long.format(max_chars=max_chars))
    if letters and not _LETTER.search(text):
        raise QuestionRejected(words.question_without_letters)
    return text
