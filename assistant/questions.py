"""The one check every entry point applies to a visitor's question before any work is done."""

from __future__ import annotations

from .errors import QuestionRejected


def accepted_question(question: str, max_chars: int, language: str) -> str:
    """The question with its whitespace tidied; refused politely, in ``language``, when empty or too long."""
    text = " ".join(question.split())
    german = language == "de"
    if not text:
        raise QuestionRejected("Bitte stellen Sie eine Frage." if german else "Please type a question.")
    if len(text) > max_chars:
        raise QuestionRejected(
            f"Die Frage ist zu lang (höchstens {max_chars} Zeichen). Bitte fassen Sie sie kürzer."
            if german
            else f"That question is too long (at most {max_chars} characters). Please ask it more briefly."
        )
    return text
