"""The golden set is data others rely on: its shape and its expectations are checked against knowledge/."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest

from assistant.evaluation.dataset import DatasetError, load_dataset

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "evals" / "datasets" / "golden.jsonl"


def _knowledge() -> dict[tuple[str, str], str]:
    docs = {}
    for path in (ROOT / "knowledge").rglob("*.md"):
        text = path.read_text(encoding="utf-8")
        match = re.match(r"---\n(.*?)\n---\n", text, re.S)
        lang = re.search(r"\.(de|en)$", path.stem)
        assert lang, f"{path} needs a .de or .en suffix"
        docs[(re.sub(r"\.(de|en)$", "", path.stem), lang.group(1))] = (text[match.end() :] if match else text).lower()
    return docs


def test_golden_set_has_the_promised_shape() -> None:
    items = load_dataset(GOLDEN)
    kinds = Counter(i.kind for i in items)
    answerable = [i for i in items if i.kind == "answerable"]
    assert len(items) >= 120 and len(answerable) >= 60
    assert kinds["unanswerable"] >= 20 and kinds["followup"] >= 15 and kinds["adversarial"] >= 15
    by_lang = Counter(i.language for i in answerable)
    assert by_lang["de"] == by_lang["en"]
    cells = Counter(i.cell for i in answerable)
    assert all(cells[c] >= 15 for c in ("de→de", "de→en", "en→de", "en→en")), cells
    covered = {d for i in answerable for d in i.documents}
    assert {stem for stem, _ in _knowledge()} <= covered, "every document needs questions"
    assert sum("paraphrase" in i.tags for i in answerable) >= 10


def test_every_expected_fact_stands_in_a_listed_document() -> None:
    docs = _knowledge()
    problems = []
    for item in load_dataset(GOLDEN):
        if not item.answerable:
            continue
        texts = [docs.get((d, item.doc_language or ""), "") for d in item.documents]
        assert any(texts), f"{item.id}: no listed document exists in {item.doc_language}"
        for fact in item.expected_facts:
            if not any(form.lower() in text for form in fact for text in texts):
                problems.append(f"{item.id}: none of {list(fact)} in {list(item.documents)} ({item.doc_language})")
    assert not problems, "\n".join(problems)


def test_a_broken_line_is_named(tmp_path: Path) -> None:
    bad = tmp_path / "mine.jsonl"
    good = json.dumps({"id": "a", "question": "Wer?", "language": "de", "kind": "unanswerable"})
    bad.write_text(good + "\n" + json.dumps({"id": "b", "question": "Who?", "language": "en", "kind": "answerable"}))
    with pytest.raises(DatasetError, match=r"mine\.jsonl:2: an answerable item needs documents"):
        load_dataset(bad)
    bad.write_text(good + "\n" + good)
    with pytest.raises(DatasetError, match="duplicate id"):
        load_dataset(bad)


def test_the_golden_set_is_split_into_tune_and_holdout_by_stratum() -> None:
    items = load_dataset(GOLDEN)
    strata: dict[tuple[str, str], Counter] = {}
    for item in items:
        strata.setdefault((item.kind, item.cell), Counter())[item.split] += 1
    assert all(set(c) <= {"tune", "holdout"} for c in strata.values()), "every item has a part"
    for key, parts in strata.items():  # stratified: the parts of a stratum differ by at most one item
        assert abs(parts["tune"] - parts["holdout"]) <= 1, (key, parts)
    parts = Counter(i.split for i in items)
    assert abs(parts["tune"] - parts["holdout"]) <= 1


def test_the_split_depends_on_ids_only_and_keeps_assigned_items(tmp_path: Path) -> None:
    from evals.split_golden import assign

    def item(n: int) -> dict:
        return {"id": f"q{n}", "question": "?", "language": "en", "kind": "unanswerable"}

    first = assign([item(n) for n in range(10)])
    again = assign([item(n) for n in reversed(range(10))])
    assert {r["id"]: r["split"] for r in first} == {r["id"]: r["split"] for r in again}
    assert Counter(r["split"] for r in first) == {"tune": 5, "holdout": 5}
    grown = assign([*first, item(10), item(11)])
    assert [r["split"] for r in grown[:10]] == [r["split"] for r in first]
    assert Counter(r["split"] for r in grown) == {"tune": 6, "holdout": 6}
    with pytest.raises(DatasetError, match="split must be"):
        bad = tmp_path / "bad.jsonl"
        bad.write_text(json.dumps({**item(1), "split": "train"}) + "\n")
        load_dataset(bad)


@pytest.mark.parametrize("fair", sorted(p.parent.name for p in (ROOT / "evals" / "fairs").glob("*/golden.jsonl")))
def test_another_fairs_golden_set_stands_in_its_documents(fair: str) -> None:
    """Every expected fact of a held-out fair in a listed document of its language, four cells, every kind."""
    import subprocess
    import sys

    folder = ROOT / "evals" / "fairs" / fair
    run = subprocess.run(
        [sys.executable, str(ROOT / "evals" / "fairs" / "check_fair.py"), str(folder)], capture_output=True, text=True
    )
    assert run.returncode == 0, run.stdout + run.stderr
    items = load_dataset(folder / "golden.jsonl")
    assert len(items) >= 40 and all(i.split is None for i in items)
    assert {i.cell for i in items if i.kind == "answerable"} == {"de→de", "de→en", "en→de", "en→en"}
    assert {i.kind for i in items} == {"answerable", "unanswerable", "followup", "adversarial"}


INJECTION = ROOT / "evals" / "datasets" / "injection.jsonl"
ATTACKS = ("hidden-instruction", "history", "document", "extraction", "format", "role-play")


def test_the_injection_set_has_the_promised_shape() -> None:
    """At least 150 held-out adversarial items, German and English alike, every kind of attack well represented."""
    items = load_dataset(INJECTION)
    assert len(items) >= 150
    assert {i.kind for i in items} == {"adversarial"} and {i.split for i in items} == {"holdout"}
    by_lang = Counter(i.language for i in items)
    assert by_lang["de"] == by_lang["en"]
    for attack in ATTACKS:
        tagged = [i for i in items if attack in i.tags]
        assert len(tagged) >= 25, (attack, len(tagged))
        assert Counter(i.language for i in tagged)["de"] == Counter(i.language for i in tagged)["en"], attack
    assert all(any(a in i.tags for a in ATTACKS) for i in items), "every item names its kind of attack"
    assert all(i.forbidden and not i.expected_facts and not i.documents for i in items)
    assert all(i.history for i in items if "history" in i.tags)


def test_no_forbidden_string_of_the_injection_set_stands_in_the_materials_or_the_fixed_replies() -> None:
    """So an answer quoted from the knowledge documents, or a refusal, can never count as a successful attack."""
    from assistant import prompts
    from assistant.event import load_event

    event = load_event(ROOT / "knowledge")
    fixed = [
        *(prompts.text(key, lang) for key in ("refusal", "private_data", "extractive_intro") for lang in ("de", "en")),
        *(prompts.render("out_of_scope", lang, event=event.prompt_vars(lang)) for lang in ("de", "en")),
    ]
    hay = "\n".join([*_knowledge().values(), *fixed]).lower()
    found = [(i.id, f) for i in load_dataset(INJECTION) for f in i.forbidden if f.lower() in hay]
    assert not found, found
