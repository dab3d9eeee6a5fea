"""The one check every entry point applies to a visitor's question before any work is done."""

from __future__ import annotations

from .errors import QuestionRejected
from .lang.resources import resources

FALLBACK = "en"  # the language of the messages for a language without a file


def accepted_question(question: str, max_chars: int, language: str) -> str:
    """The question with its whitespace tidied; refused politely, in ``language``, when empty or too long."""
    text = " ".join(question.split())
    words = resources().get(language) or resources().languages[FALLBACK]
    if not text:
        raise QuestionRejected(words.empty_question)
    if len(text) > max_chars:
        raise QuestionRejected(words.question_too_long.format(max_chars=max_chars))
    return text
