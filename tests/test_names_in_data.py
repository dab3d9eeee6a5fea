"""Names live in data: the package names no organisation, person, fair or city of ``knowledge/``.

The names are those of the documents' front matter (``name``, ``city``, ``author``, ``publisher``; a topic's
``name`` is a phrase, not a name) and of ``knowledge/event.toml`` (``name``, ``place``, ``host``), with the
distinctive words of each (``GRIP`` of "GRIP GmbH", ``Dortmunder`` of "der Dortmunder Delegation"). Every file of
``assistant/`` is searched, comments and docstrings included: an example in a comment is written generically
("Wer leitet die Firma X?").
"""

from __future__ import annotations

import re
import tomllib

import yaml

from tests.conftest import ROOT

KNOWLEDGE = ROOT / "knowledge"
PACKAGE = ROOT / "assistant"
SUFFIXES = (".py", ".yaml", ".yml", ".js", ".css", ".html", ".toml")
NAME_FIELDS = ("name", "city", "author", "publisher")
EVENT_FIELDS = ("name", "place", "host")
# Words of the names that are ordinary vocabulary or legal forms, not names of their own.
GENERIC = set(
    "GmbH mbH KG Co AG USA German American Chamber Commerce Midwest Business Empfang Reception Büro Office New York "
    "Fachhochschule Wirtschaftsförderung Ingenieurgesellschaft Gesellschaft Berechnungen Delegation Frank".split()
)
_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n---[ \t]*\r?\n", re.S)
_PARTS = re.compile(r"\s+/\s+|\s+[–—-]\s+|[(),]")  # "A / B", "A – B", "A (B, C)"


def _front_matter_names() -> set[str]:
    names: set[str] = set()
    for path in sorted(KNOWLEDGE.rglob("*.md")):
        match = _FRONT_MATTER.match(path.read_text(encoding="utf-8"))
        meta = yaml.safe_load(match.group(1)) if match else None
        if not isinstance(meta, dict):
            continue
        for key in NAME_FIELDS:
            if meta.get(key) and not (key == "name" and meta.get("kind") == "topic"):
                names.add(str(meta[key]))
    return names


def _event_names() -> set[str]:
    data = tomllib.loads((KNOWLEDGE / "event.toml").read_text(encoding="utf-8"))
    names: set[str] = set()
    for key in EVENT_FIELDS:
        value = data.get(key)
        names.update([value] if isinstance(value, str) else (value or {}).values())
    return names


def _token(word: str) -> str | None:
    """The word when it is a name of its own: capitalised or an acronym, not initials, a number or generic."""
    word = word.strip(",;:!?\"'’").removesuffix("'s").removesuffix("’s")
    if len(word) < 2 or not word[0].isupper() or not all(c.isalnum() or c == "-" for c in word):
        return None
    return None if word in GENERIC or word.replace(".", "").isdigit() else word


def names() -> set[str]:
    """Whole names, their parts ("BVB" of "Borussia Dortmund (BVB)") and their distinctive words."""
    out: set[str] = set()
    for name in _front_matter_names() | _event_names():
        out.add(" ".join(name.split()))
        for part in _PARTS.split(name):
            part = " ".join(part.split())
            words = part.split()
            if any(_token(w) for w in words):  # a part made only of generic words ("New York office") is no name
                out.add(part)
            for word in words:
                for piece in [word, *word.split("-")]:  # "Fraunhofer-Gesellschaft": "Fraunhofer"
                    token = _token(piece)
                    if token:
                        out.add(token)
    return out


def hits(text: str, found: set[str]) -> list[str]:
    """The names of ``found`` that stand in ``text`` as words of their own (case-sensitive)."""
    return sorted(n for n in found if re.search(rf"(?<!\w){re.escape(n)}(?!\w)", text))


def package_hits() -> list[str]:
    """``path:line: names`` for every line of the package that names something of knowledge/."""
    found = names()
    out = []
    for path in sorted(PACKAGE.rglob("*")):
        if not path.is_file() or path.suffix not in SUFFIXES or "__pycache__" in path.parts:
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            named = hits(line, found)
            if named:
                out.append(f"{path.relative_to(ROOT)}:{number}: {', '.join(named)}")
    return out


def test_the_names_are_collected_from_the_front_matter_and_the_event_profile() -> None:
    found = names()
    # organisations and their distinctive words, the fair, the city, a person, a city of the materials
    assert {"GRIP GmbH", "GRIP", "BVB", "Borussia", "Fraunhofer", "IMTS 2024", "IMTS"} <= found
    assert {"Dortmund", "Dortmunder", "Chicago", "Schwerte", "New York", "Grützenbach"} <= found
    assert not found & {"GmbH", "New", "Business", "Delegation", "2024"}  # no ordinary words


def test_a_name_is_found_only_as_a_word_of_its_own() -> None:
    found = {"GRIP", "IMTS", "Dortmund"}
    assert hits("Wer leitet die GRIP GmbH?", found) == ["GRIP"]
    assert hits("# the IMTS prompt", found) == ["IMTS"]
    assert hits("in Dortmund-Hörde", found) == ["Dortmund"]
    assert hits("GRIPS, grip, Dortmunder, imts, fa-grip", found) == []


def test_the_package_names_no_organisation_person_fair_or_city_of_the_knowledge() -> None:
    found = package_hits()
    assert found == [], "names live in data (knowledge/, event.toml); write examples generically:\n" + "\n".join(found)
