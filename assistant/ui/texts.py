"""Every word the visitor screens show, in German and English, and the suggested questions.

The suggestions are questions the documents in ``knowledge/`` answer (a test asks them against the real index).
"""

from __future__ import annotations

from typing import Literal

Language = Literal["de", "en"]
LANGUAGES: tuple[Language, ...] = ("de", "en")

TEXTS: dict[str, dict[Language, str]] = {
    "title": {"de": "Fragen Sie die Dortmunder Delegation", "en": "Ask the Dortmund delegation"},
    "subtitle": {
        "de": "IMTS 2024 in Chicago: Unternehmen, Forschung und Partner aus Dortmund. Antworten mit Quellen.",
        "en": "IMTS 2024 in Chicago: companies, research and partners from Dortmund. Answers with sources.",
    },
    "suggestions": {"de": "Zum Beispiel:", "en": "For example:"},
    "input_label": {"de": "Ihre Frage", "en": "Your question"},
    "placeholder": {"de": "Frage eingeben …", "en": "Type your question …"},
    "send": {"de": "Fragen", "en": "Ask"},
    "new": {"de": "Neues Gespräch", "en": "New conversation"},
    "language": {"de": "Sprache", "en": "Language"},
    "you": {"de": "Ihre Frage", "en": "Your question"},
    "assistant": {"de": "Antwort", "en": "Answer"},
    "conversation": {"de": "Gespräch", "en": "Conversation"},
    "sources": {"de": "Quellen", "en": "Sources"},
    "source_hint": {
        "de": "Tippen Sie auf eine Quelle für Details und einen QR-Code.",
        "en": "Tap a source for details and a QR code.",
    },
    "organisation": {"de": "Organisation", "en": "Organisation"},
    "website": {"de": "Website", "en": "Website"},
    "no_website": {"de": "Keine Website angegeben.", "en": "No website given."},
    "qr": {"de": "QR-Code der Website", "en": "QR code of the website"},
    "qr_hint": {
        "de": "Mit der Handykamera scannen, um die Seite mitzunehmen.",
        "en": "Scan with your phone camera to take the page with you.",
    },
    "close": {"de": "Schließen", "en": "Close"},
    "thinking": {"de": "Einen Moment, ich suche in den Unterlagen …", "en": "One moment, searching the materials …"},
    "queued": {
        "de": "Sie sind in der Warteschlange: {ahead} Frage(n) vor Ihnen. Ihre Antwort beginnt gleich.",
        "en": "You are in the queue: {ahead} question(s) ahead of yours. Your answer starts shortly.",
    },
    "replaced": {"de": "(überprüfte Antwort)", "en": "(checked answer)"},
    "error": {
        "de": "Entschuldigung, das hat gerade nicht geklappt. Bitte fragen Sie das Standpersonal.",
        "en": "Sorry, that did not work just now. Please ask the booth staff.",
    },
    "rate_limited": {
        "de": "Bitte einen Moment Geduld — zu viele Fragen in kurzer Zeit.",
        "en": "Please wait a moment — too many questions in a short time.",
    },
    "idle_title": {"de": "Sind Sie noch da?", "en": "Are you still there?"},
    "idle_body": {
        "de": "Das Gespräch wird in {seconds} Sekunden gelöscht.",
        "en": "The conversation will be cleared in {seconds} seconds.",
    },
    "idle_stay": {"de": "Weiter fragen", "en": "Keep asking"},
    "widget_title": {"de": "Fragen zur Dortmunder Delegation", "en": "Questions about the Dortmund delegation"},
    "widget_hint": {
        "de": "Antworten aus den Unterlagen der Delegation, mit Quellen.",
        "en": "Answers from the delegation's materials, with sources.",
    },
    "opens_new_tab": {"de": "öffnet in neuem Tab", "en": "opens in a new tab"},
}

SUGGESTIONS: dict[Language, tuple[str, ...]] = {
    "de": (
        "Welche Dortmunder Unternehmen stellen auf der IMTS 2024 aus?",
        "Wann und wo fand die IMTS 2024 statt?",
        "Was entwickelt die GRIP GmbH?",
        "Wann war der Dortmunder Business Empfang in Chicago?",
        "Wann hat Borussia Dortmund sein Büro in New York eröffnet?",
        "Welche Fraunhofer-Institute gibt es in Dortmund?",
    ),
    "en": (
        "Which Dortmund companies exhibit at IMTS 2024?",
        "When and where did IMTS 2024 take place?",
        "What does GRIP GmbH develop?",
        "When was the Dortmund Business Reception in Chicago?",
        "When did Borussia Dortmund open its New York office?",
        "Which Fraunhofer institutes are in Dortmund?",
    ),
}


def language(value: object, default: Language = "de") -> Language:
    """A language code from a query parameter or an ``<html lang>`` ("de-DE", "EN") — anything else: default."""
    code = str(value or "").strip().lower()[:2]
    return "en" if code == "en" else "de" if code == "de" else default


def text(key: str, lang: Language, **values: object) -> str:
    return TEXTS[key][lang].format(**values) if values else TEXTS[key][lang]
