"""The event profile: everything fair-specific, read once from ``<knowledge_dir>/event.toml``.

Nothing in the package knows which fair it serves. The prompts, the out-of-scope reply, the screens' texts and
suggested questions, the embed snippet's label and the date that "today" means come from this profile; without
the file, ``neutral()`` words everything without a name ("this event's materials"). Organisers' guide:
``docs/deploy-for-your-fair.md``.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from .errors import ConfigError

EVENT_FILE = "event.toml"
LANGUAGES = ("de", "en")
MAX_CHARS = 300  # any text of the profile
MAX_SUGGESTIONS = 8  # per language
MAX_SUGGESTION_CHARS = 200

Bilingual = Mapping[str, str]  # {"de": …, "en": …}

# Facts about the event: optional, empty when not given (the prompt file words its own neutral fallback).
FACTS = ("name", "place", "host", "at", "scope")
# What the screens show: always set; a key left out takes this neutral wording, or the key named in _FALLBACK.
NEUTRAL_TEXTS: dict[str, dict[str, str]] = {
    "title": {"de": "Fragen Sie den Messe-Assistenten", "en": "Ask the event assistant"},
    "subtitle": {
        "de": "Antworten aus den Unterlagen dieser Veranstaltung, mit Quellen.",
        "en": "Answers from this event's materials, with sources.",
    },
    "greeting": {
        "de": "Willkommen! Fragen Sie auf Deutsch oder Englisch.",
        "en": "Welcome! Ask in English or German.",
    },
}
_FALLBACK = {"widget_title": "title", "widget_subtitle": "subtitle", "embed_label": "widget_title"}
TEXTS = (*NEUTRAL_TEXTS, *_FALLBACK)
KEYS = ("today", *FACTS, *TEXTS, "suggestions")


class EventProfileError(ConfigError):
    """The event profile (``event.toml``) cannot be read or has a wrong value; the message names file and key."""


def _empty() -> dict[str, str]:
    return dict.fromkeys(LANGUAGES, "")


@dataclass(frozen=True)
class EventProfile:
    """One fair. Bilingual fields map "de" and "en" to a text ("" for a fact not given)."""

    name: Bilingual = field(default_factory=_empty)  # "Hannover Messe 2025"
    today: date | None = None  # the fair's date: what "today" means in a question
    place: Bilingual = field(default_factory=_empty)  # the city: "Hannover"
    host: Bilingual = field(default_factory=_empty)  # whose booth, as after "the booth of" / "am Messestand"
    at: Bilingual = field(default_factory=_empty)  # where, as after "the booth of X": "at Expo 2030 in Berlin"
    scope: Bilingual = field(default_factory=_empty)  # as after "I answer": "questions about …"
    title: Bilingual = field(default_factory=lambda: dict(NEUTRAL_TEXTS["title"]))
    subtitle: Bilingual = field(default_factory=lambda: dict(NEUTRAL_TEXTS["subtitle"]))
    greeting: Bilingual = field(default_factory=lambda: dict(NEUTRAL_TEXTS["greeting"]))
    widget_title: Bilingual = field(default_factory=lambda: dict(NEUTRAL_TEXTS["title"]))
    widget_subtitle: Bilingual = field(default_factory=lambda: dict(NEUTRAL_TEXTS["subtitle"]))
    embed_label: Bilingual = field(default_factory=lambda: dict(NEUTRAL_TEXTS["title"]))
    suggestions: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: dict.fromkeys(LANGUAGES, ()))
    source: str | None = None  # the file it was read from; None: the neutral profile

    def prompt_vars(self, language: str) -> dict[str, str]:
        """The facts in one language, as the prompt templates see them (``{{ event.host }}``)."""
        return {key: getattr(self, key)[language] for key in FACTS}

    def present_year(self) -> int:
        """The year "today" is: the fair's, or, without a date in the profile, this year."""
        return (self.today or date.today()).year

    def text(self, key: str, language: str) -> str:
        """A screen text (``title``, ``subtitle``, ``greeting``, ``widget_title``, ``widget_subtitle``,
        ``embed_label``) in a language."""
        if key not in TEXTS:
            raise KeyError(key)
        return str(getattr(self, key)[language])

    def questions(self, language: str) -> tuple[str, ...]:
        """The suggested questions in a language (none when the profile has none)."""
        return tuple(self.suggestions.get(language, ()))


def neutral() -> EventProfile:
    """The profile of no particular event: no names, no date; the screens say "this event's materials"."""
    return EventProfile()


def load_event(knowledge_dir: Path) -> EventProfile:
    """``<knowledge_dir>/event.toml``, checked; the neutral profile when there is no such file."""
    path = Path(knowledge_dir) / EVENT_FILE
    if not path.is_file():
        return neutral()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise EventProfileError(f"{path}: not valid TOML ({exc}) — fix it, or remove the file.") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise EventProfileError(f"{path}: cannot be read ({exc}).") from None
    return parse_event(data, str(path))


def parse_event(data: Mapping[str, Any], source: str) -> EventProfile:
    """A profile from the parsed TOML of ``source`` (named in every error)."""
    unknown = sorted(set(data) - set(KEYS))
    if unknown:
        raise EventProfileError(
            f"{source}: unknown key {', '.join(map(repr, unknown))} — the keys are {', '.join(KEYS)}."
        )
    values: dict[str, Any] = {"source": source, "today": _today(data.get("today"), source)}
    for key in FACTS:
        if key in data:
            values[key] = _bilingual(data[key], key, source)
    for key in NEUTRAL_TEXTS:
        values[key] = _bilingual(data[key], key, source) if key in data else dict(NEUTRAL_TEXTS[key])
    for key, fallback in _FALLBACK.items():  # in order: embed_label falls back on the resolved widget_title
        values[key] = _bilingual(data[key], key, source) if key in data else dict(values[fallback])
    values["suggestions"] = _suggestions(data.get("suggestions", {}), source)
    return EventProfile(**values)


def _today(value: object, source: str) -> date | None:
    """A TOML date (``today = 2025-03-31``); a quoted one is taken too."""
    if value is None:
        return None
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            raise EventProfileError(f"{source}: today is no date of the calendar: {value!r}.") from None
    if isinstance(value, datetime) or not isinstance(value, date):
        raise EventProfileError(f"{source}: today must be a date like 2025-03-31 (without quotes), not {value!r}.")
    return value


def _bilingual(value: object, key: str, source: str) -> dict[str, str]:
    """A text for both languages (one string), or a table with a "de" and an "en" text."""
    if isinstance(value, str):
        value = dict.fromkeys(LANGUAGES, value)
    if not isinstance(value, Mapping):
        raise EventProfileError(f'{source}: {key} must be a text or a table {{ de = "…", en = "…" }}.')
    wrong = sorted(set(value) - set(LANGUAGES))
    missing = [lang for lang in LANGUAGES if lang not in value]
    if wrong or missing:
        problem = f"unknown language {', '.join(wrong)}" if wrong else f"no {' and no '.join(missing)} text"
        raise EventProfileError(f"{source}: {key} has {problem} — give de and en.")
    return {lang: _text(value[lang], f"{key}.{lang}", source, MAX_CHARS) for lang in LANGUAGES}


def _text(value: object, where: str, source: str, limit: int) -> str:
    if not isinstance(value, str):
        raise EventProfileError(f"{source}: {where} must be a text in quotes, not {type(value).__name__}.")
    text = " ".join(value.split())  # one line: it goes into a sentence of a prompt or a heading
    if not text:
        raise EventProfileError(f"{source}: {where} is empty — leave the key out for the default.")
    if len(text) > limit:
        raise EventProfileError(f"{source}: {where} is {len(text)} characters long; at most {limit}.")
    return text


def _suggestions(value: object, source: str) -> dict[str, tuple[str, ...]]:
    if not isinstance(value, Mapping):
        raise EventProfileError(f'{source}: suggestions must be a table: de = ["…", …] and en = ["…", …].')
    wrong = sorted(set(value) - set(LANGUAGES))
    if wrong:
        raise EventProfileError(f"{source}: suggestions has unknown language {', '.join(wrong)} — only de and en.")
    out: dict[str, tuple[str, ...]] = {}
    for lang in LANGUAGES:
        questions = value.get(lang, [])
        if not isinstance(questions, list):
            raise EventProfileError(f"{source}: suggestions.{lang} must be a list of questions in quotes.")
        if len(questions) > MAX_SUGGESTIONS:
            raise EventProfileError(
                f"{source}: suggestions.{lang} has {len(questions)} questions; at most {MAX_SUGGESTIONS}."
            )
        where = f"suggestions.{lang}"
        out[lang] = tuple(
            _text(q, f"{where}, question {i}", source, MAX_SUGGESTION_CHARS) for i, q in enumerate(questions, start=1)
        )
    return out
