"""Every word the visitor screens show, in German and English, that is the same at every fair.

What names the fair — the screens' titles, subtitles, greeting, the suggested questions, the embed button's
label — comes from the event profile (``assistant/event.py``, the knowledge folder's ``event.toml``).
"""

from __future__ import annotations

from typing import Literal

Language = Literal["de", "en"]
LANGUAGES: tuple[Language, ...] = ("de", "en")

TEXTS: dict[str, dict[Language, str]] = {
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
    "opens_new_tab": {"de": "öffnet in neuem Tab", "en": "opens in a new tab"},
    "rate_prompt": {"de": "War diese Antwort hilfreich?", "en": "Was this answer helpful?"},
    "rate_up": {"de": "Hilfreich", "en": "Helpful"},
    "rate_down": {"de": "Nicht hilfreich", "en": "Not helpful"},
    "thanks": {"de": "Danke für Ihr Feedback", "en": "Thanks for your feedback"},
    "reason_prompt": {"de": "Was hat nicht gepasst? (freiwillig)", "en": "What was wrong? (optional)"},
    "reason_wrong": {"de": "Falsch", "en": "Wrong"},
    "reason_incomplete": {"de": "Unvollständig", "en": "Incomplete"},
    "reason_not_my_language": {"de": "Nicht meine Sprache", "en": "Not my language"},
    "reason_did_not_answer": {"de": "Hat nicht geantwortet", "en": "Did not answer"},
}


def language(value: object, default: Language = "de") -> Language:
    """A language code from a query parameter or an ``<html lang>`` ("de-DE", "EN") — anything else: default."""
    code = str(value or "").strip().lower()[:2]
    return "en" if code == "en" else "de" if code == "de" else default


def text(key: str, lang: Language, **values: object) -> str:
    return TEXTS[key][lang].format(**values) if values else TEXTS[key][lang]
