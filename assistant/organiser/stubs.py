"""A Markdown stub per content-gap group: front matter for the loader (the fair, the language, a title), the group's
questions as headings, a line under each to replace with the answer. Completed and dropped into knowledge/, the next
`assistant ingest` indexes it like any other document (the heading of each section is the question it answers)."""

from __future__ import annotations

import json
import re
from datetime import date

from ..event import EventProfile
from .gaps import GapGroup

TO_WRITE = {
    "de": "(Hier die Antwort eintragen, mit den Fakten aus den Unterlagen.)",
    "en": "(Write the answer here, with the facts from your materials.)",
}


def stub_name(index: int, group: GapGroup, day: date) -> str:
    """``gap-2024-09-09-1.de.md``: the loader takes the language from the name as well."""
    return f"gap-{day.isoformat()}-{index}.{group.language()}.md"


def stub(index: int, group: GapGroup, event: EventProfile, day: date) -> str:
    """The stub's Markdown. Front matter values are JSON strings (valid YAML, every character escaped); the
    headings are the questions on one line each, with Markdown's own characters taken out."""
    language = group.language() if group.language() in TO_WRITE else "en"
    fair = event.name.get(language, "") if event.name else ""
    questions = [_heading(q) for q in group.examples()] or ["?"]
    front = {
        "id": f"gap-{day.isoformat()}-{index}",
        "title": questions[0],
        "kind": "faq",
        "language": language,
        "name": fair,
    }
    front = {key: value for key, value in front.items() if value}  # no fair named in a neutral profile
    lines = ["---", *(f"{key}: {json.dumps(value, ensure_ascii=False)}" for key, value in front.items()), "---"]
    lines += [f"# {questions[0]}", ""]
    for question in questions:
        lines += [f"## {question}", "", TO_WRITE[language], ""]
    return "\n".join(lines)


def _heading(question: str) -> str:
    text = re.sub(r"[#*_`<>\[\]|\\]", " ", question)
    return " ".join(text.split())[:200]
