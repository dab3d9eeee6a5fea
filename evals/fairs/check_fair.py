"""Self-check for a held-out fair folder (stdlib only).

    python evals/fairs/check_fair.py evals/fairs/<fair-id>

Checks that
- every line of golden.jsonl is a JSON object with the fields of the golden-set schema
  (evals/datasets/README.md) and valid values, and that the ids are unique;
- every document of an answerable/followup item exists in knowledge/ in the item's doc_language;
- at least one surface form of every expected fact occurs (case-insensitive substring, YAML front matter
  stripped) in at least one listed document of that doc_language;
- every knowledge document has front matter with id, title, name, kind, city, language, updated, sources
  (non-empty), its id matches the file name and its language the file suffix;
- knowledge/event.toml parses and has name.de, name.en, a TOML date `today` and the keys of the project's
  knowledge/event.toml (all but `host`).
Prints the counts per kind and per language cell. Exit status 1 on any problem.
"""

from __future__ import annotations

import json
import re
import sys
import tomllib
from collections import Counter
from datetime import date
from pathlib import Path

FIELDS = (
    "id",
    "question",
    "language",
    "kind",
    "doc_language",
    "documents",
    "expected_facts",
    "forbidden",
    "history",
    "tags",
)
KINDS = ("answerable", "unanswerable", "followup", "adversarial")
TAGS = {
    "paraphrase",
    "name",
    "date",
    "number",
    "cross-lingual",
    "multi-doc",
    "hard",
    "injection",
    "system-prompt",
    "off-topic",
    "abuse",
    "booth",
    "price",
}
FRONT_KEYS = ("id", "title", "name", "kind", "city", "language", "updated", "sources")
DOC_NAME = re.compile(r"^(?P<id>.+)\.(?P<lang>de|en)\.md$")


def strip_front_matter(text: str) -> tuple[str, str]:
    """Return (front matter, body). Front matter is the block between the first two '---' lines."""
    if text.startswith("---\n"):
        end = text.find("\n---\n", 4)
        if end != -1:
            return text[4:end], text[end + 5 :]
    return "", text


def parse_front(front: str) -> dict[str, object]:
    """A tiny reader for the flat front matter used in knowledge/: `key: value` and `key:` + `  - item` lists."""
    meta: dict[str, object] = {}
    key = None
    for line in front.splitlines():
        if not line.strip():
            continue
        if line.startswith("  - ") and key is not None:
            value = meta.setdefault(key, [])
            if isinstance(value, list):
                value.append(line[4:].strip())
            continue
        name, _, value = line.partition(":")
        key = name.strip()
        value = value.strip()
        meta[key] = value.strip('"') if value else []
    return meta


def load_documents(folder: Path, problems: list[str]) -> dict[tuple[str, str], str]:
    docs: dict[tuple[str, str], str] = {}
    knowledge = folder / "knowledge"
    if not knowledge.is_dir():
        problems.append(f"{knowledge}: missing")
        return docs
    for path in sorted(knowledge.rglob("*.md")):
        match = DOC_NAME.match(path.name)
        rel = path.relative_to(folder)
        if not match:
            problems.append(f"{rel}: name is not <id>.<de|en>.md")
            continue
        front, body = strip_front_matter(path.read_text(encoding="utf-8"))
        meta = parse_front(front)
        for key in FRONT_KEYS:
            if not meta.get(key):
                problems.append(f"{rel}: front matter lacks {key}")
        if meta.get("id") != match["id"]:
            problems.append(f"{rel}: id {meta.get('id')!r} does not match the file name")
        if meta.get("language") != match["lang"]:
            problems.append(f"{rel}: language {meta.get('language')!r} does not match the file suffix")
        if not re.search(r"^# ", body, re.M):
            problems.append(f"{rel}: no '# ' heading")
        key = (match["id"], match["lang"])
        if key in docs:
            problems.append(f"{rel}: duplicate document {key}")
        docs[key] = body
    return docs


def check_item(raw: object, where: str, docs: dict[tuple[str, str], str], problems: list[str]) -> None:
    if not isinstance(raw, dict):
        problems.append(f"{where}: not a JSON object")
        return
    missing = [f for f in FIELDS if f not in raw]
    if missing:
        problems.append(f"{where}: missing fields {missing}")
        return
    extra = set(raw) - set(FIELDS) - {"split"}
    if extra:
        problems.append(f"{where}: unknown fields {sorted(extra)}")
    kind, lang, doc_lang = raw["kind"], raw["language"], raw["doc_language"]
    if kind not in KINDS:
        problems.append(f"{where}: kind {kind!r}")
    if lang not in ("de", "en"):
        problems.append(f"{where}: language {lang!r}")
    bad_tags = set(raw["tags"]) - TAGS
    if bad_tags:
        problems.append(f"{where}: unknown tags {sorted(bad_tags)}")
    if not all(isinstance(s, str) and s for s in raw["forbidden"]):
        problems.append(f"{where}: forbidden must be non-empty strings")
    answerable = kind in ("answerable", "followup")
    if answerable:
        if doc_lang not in ("de", "en"):
            problems.append(f"{where}: doc_language {doc_lang!r}")
            return
        if not raw["documents"] or not raw["expected_facts"]:
            problems.append(f"{where}: needs documents and expected_facts")
        if (lang != doc_lang) != ("cross-lingual" in raw["tags"]):
            problems.append(f"{where}: cross-lingual tag does not match the languages")
    else:
        if doc_lang is not None or raw["documents"] or raw["expected_facts"]:
            problems.append(f"{where}: {kind} items have doc_language null, no documents, no facts")
    if kind == "followup":
        history = raw["history"]
        if (
            not history
            or history[-1].get("role") != "assistant"
            or any(t.get("role") not in ("user", "assistant") or not t.get("content") for t in history)
        ):
            problems.append(f"{where}: follow-up history must be user/assistant turns ending with the assistant")
    elif raw["history"]:
        problems.append(f"{where}: only follow-ups carry history")
    if not answerable:
        return
    bodies = []
    for doc_id in raw["documents"]:
        body = docs.get((doc_id, doc_lang))
        if body is None:
            problems.append(f"{where}: document {doc_id!r} has no {doc_lang} version")
        else:
            bodies.append(body.lower())
    for fact in raw["expected_facts"]:
        if not fact or not all(isinstance(f, str) and f for f in fact):
            problems.append(f"{where}: empty fact or form")
            continue
        if not any(form.lower() in body for form in fact for body in bodies):
            problems.append(f"{where}: no form of {fact} occurs in {raw['documents']} ({doc_lang})")
    for form in raw["forbidden"]:
        if any(form.lower() in body for body in bodies):
            problems.append(f"{where}: forbidden {form!r} occurs in a listed document")


def check_event(folder: Path, problems: list[str]) -> None:
    """The event profile: `knowledge/event.toml`, where `assistant eval --fair` reads it (the knowledge folder's
    profile), with `name` (de, en) and a TOML date `today`; the same keys as the project's `knowledge/event.toml`."""
    path = folder / "knowledge" / "event.toml"
    if not path.is_file():
        problems.append(f"{path}: missing (the assistant reads the profile from <knowledge_dir>/event.toml)")
        return
    try:
        event = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        problems.append(f"{path}: {exc}")
        return
    name = event.get("name")
    if not isinstance(name, dict) or not name.get("de") or not name.get("en"):
        problems.append(f"{path}: name needs de and en")
    if not isinstance(event.get("today"), date):
        problems.append(f"{path}: today must be a TOML date")
    suggestions = event.get("suggestions", {})
    for lang in ("de", "en"):
        if suggestions and not suggestions.get(lang):
            problems.append(f"{path}: suggestions.{lang} is empty")
    project = Path(__file__).resolve().parents[2] / "knowledge" / "event.toml"
    if project.is_file():
        try:
            keys = set(tomllib.loads(project.read_text(encoding="utf-8")))
        except tomllib.TOMLDecodeError:
            keys = set()
        missing = sorted(keys - set(event) - {"host"})  # host: whose booth; a fair-wide assistant has none
        if missing:
            problems.append(f"{path}: lacks keys the project's knowledge/event.toml has: {missing}")


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__.strip().splitlines()[2].strip())
        return 2
    folder = Path(argv[1])
    problems: list[str] = []
    docs = load_documents(folder, problems)
    check_event(folder, problems)
    seen: set[str] = set()
    kinds: Counter[str] = Counter()
    cells: Counter[str] = Counter()
    qlang: Counter[tuple[str, str]] = Counter()
    tags: Counter[str] = Counter()
    golden = folder / "golden.jsonl"
    for line_no, line in enumerate(golden.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        where = f"{golden.name}:{line_no}"
        try:
            raw = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(f"{where}: not JSON ({exc.msg})")
            continue
        check_item(raw, where, docs, problems)
        if not isinstance(raw, dict) or "id" not in raw:
            continue
        if raw["id"] in seen:
            problems.append(f"{where}: duplicate id {raw['id']!r}")
        seen.add(raw["id"])
        kinds[raw.get("kind")] += 1
        qlang[(raw.get("kind"), raw.get("language"))] += 1
        tags.update(raw.get("tags", []))
        if raw.get("kind") in ("answerable", "followup"):
            cells[(raw.get("kind"), f"{raw.get('language')}→{raw.get('doc_language')}")] += 1

    langs = Counter(lang for _, lang in docs)
    ids = {doc_id for doc_id, _ in docs}
    only = {
        lang: sorted(i for i in ids if (i, lang) in docs and (i, "de" if lang == "en" else "en") not in docs)
        for lang in ("de", "en")
    }
    print(
        f"documents: {len(ids)} ids, {langs['de']} German and {langs['en']} English files; "
        f"German only: {only['de']}; English only: {only['en']}"
    )
    print(f"items: {sum(kinds.values())}")
    for kind in KINDS:
        print(f"  {kind:13} {kinds[kind]:3}  (de questions {qlang[(kind, 'de')]}, en questions {qlang[(kind, 'en')]})")
    for kind in ("answerable", "followup"):
        row = ", ".join(f"{cell} {cells[(kind, cell)]}" for cell in ("de→de", "de→en", "en→de", "en→en"))
        print(f"  {kind} cells: {row}")
    print("  tags: " + ", ".join(f"{t} {n}" for t, n in sorted(tags.items())))
    if problems:
        print(f"\n{len(problems)} problem(s):")
        for problem in problems:
            print(f"  - {problem}")
        return 1
    print("\nOK: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
