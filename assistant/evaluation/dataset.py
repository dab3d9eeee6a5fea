"""The golden-set schema (documented in evals/datasets/README.md): one JSON object per line."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

Kind = Literal["answerable", "unanswerable", "followup", "adversarial"]
KINDS = ("answerable", "unanswerable", "followup", "adversarial")
SPLITS = ("tune", "holdout")  # rules may be developed against `tune`; `holdout` is only measured


class DatasetError(ValueError):
    pass


@dataclass(frozen=True)
class Item:
    id: str
    question: str
    language: str
    kind: Kind
    doc_language: str | None = None
    documents: tuple[str, ...] = ()
    expected_facts: tuple[tuple[str, ...], ...] = ()
    forbidden: tuple[str, ...] = ()
    history: tuple[dict[str, str], ...] = ()
    tags: tuple[str, ...] = field(default_factory=tuple)
    split: str | None = None  # "tune", "holdout", or None for a set that is held out whole (another fair)

    @property
    def cell(self) -> str:
        """Question language → document language, e.g. 'en→de'."""
        return f"{self.language}→{self.doc_language or '-'}"

    @property
    def answerable(self) -> bool:
        return self.kind in ("answerable", "followup")


def parse_item(raw: dict[str, Any], where: str) -> Item:
    try:
        kind = raw["kind"]
        if kind not in KINDS:
            raise DatasetError(f"{where}: kind must be one of {KINDS}, not {kind!r}")
        if raw["language"] not in ("de", "en"):
            raise DatasetError(f"{where}: language must be 'de' or 'en'")
        if raw.get("split") not in (None, *SPLITS):
            raise DatasetError(f"{where}: split must be one of {SPLITS} or absent, not {raw['split']!r}")
        item = Item(
            id=str(raw["id"]),
            question=str(raw["question"]),
            language=raw["language"],
            kind=kind,
            doc_language=raw.get("doc_language"),
            documents=tuple(raw.get("documents") or ()),
            expected_facts=tuple(tuple(str(form) for form in fact) for fact in raw.get("expected_facts") or ()),
            forbidden=tuple(raw.get("forbidden") or ()),
            history=tuple(raw.get("history") or ()),
            tags=tuple(raw.get("tags") or ()),
            split=raw.get("split"),
        )
    except KeyError as exc:
        raise DatasetError(f"{where}: missing field {exc}") from None
    if item.answerable and (not item.documents or item.doc_language not in ("de", "en")):
        raise DatasetError(f"{where}: an {kind} item needs documents and doc_language 'de' or 'en'")
    if any(not fact for fact in item.expected_facts):
        raise DatasetError(f"{where}: every expected fact needs at least one acceptable form")
    return item


def load_dataset(path: Path) -> list[Item]:
    items: list[Item] = []
    seen: set[str] = set()
    for line_no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        where = f"{path.name}:{line_no}"
        try:
            raw = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DatasetError(f"{where}: not JSON ({exc.msg})") from None
        item = parse_item(raw, where)
        if item.id in seen:
            raise DatasetError(f"{where}: duplicate id {item.id!r}")
        seen.add(item.id)
        items.append(item)
    return items
