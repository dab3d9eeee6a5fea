"""The answer metrics on small hand-made cases, and `assistant eval` end to end with fakes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant import cli, prompts
from assistant.evaluation.answers import score_item, summarise_answers
from assistant.evaluation.dataset import parse_item
from assistant.evaluation.report import compare, render_html
from assistant.types import Answer, Source


def _answer(text: str, refused: bool = False, route: str = "llm", sources: tuple[Source, ...] = ()) -> Answer:
    return Answer(
        "q",
        "q",
        text,
        "en",
        refused,
        route,
        "",
        sources,
        {"retrieve_ms": 1.0, "first_token_ms": 2.0, "total_ms": 3.0},
        "answer-v1",
        "fake",
    )


SOURCE = Source(
    1,
    "IMTS 2024",
    "kb/imts.en.md",
    "IMTS",
    "",
    "snippet",
    "en",
    "IMTS 2024 took place from September 9 to 14, 2024 in Chicago. It counted 89,020 registrants.",
)
ITEM = parse_item(
    {
        "id": "a",
        "question": "How many registrants?",
        "language": "en",
        "kind": "answerable",
        "doc_language": "en",
        "documents": ["imts-2024"],
        "expected_facts": [["89,020", "89.020"]],
        "forbidden": ["Hall 7"],
    },
    "t",
)
UNANSWERABLE = parse_item({"id": "u", "question": "Booth?", "language": "en", "kind": "unanswerable"}, "t")
EVIDENCE = [f"{SOURCE.title}\n{SOURCE.organisation}\n{SOURCE.text}"]


def test_a_correct_cited_answer_passes_everything() -> None:
    r = score_item(ITEM, _answer("IMTS 2024 had 89,020 registrants [1].", sources=(SOURCE,)), EVIDENCE)
    assert (r.correct, r.language_ok, r.faithful, r.citations_ok, r.failures) == (True, True, True, True, ())


def test_each_kind_of_failure_is_named() -> None:
    missing = score_item(ITEM, _answer("IMTS was big [1].", sources=(SOURCE,)), EVIDENCE)
    assert missing.correct is False and "missing" in missing.failures[0]
    invented = score_item(
        ITEM, _answer("It had 89,020 registrants and 4,000 exhibitors [1].", sources=(SOURCE,)), EVIDENCE
    )
    assert not invented.faithful and "4,000" in str(invented.unsupported)
    german = score_item(
        ITEM, _answer("Die IMTS 2024 hatte 89,020 Besucher, sagt die Quelle [1].", sources=(SOURCE,)), EVIDENCE
    )
    assert not german.language_ok
    uncited = score_item(ITEM, _answer("IMTS 2024 had 89,020 registrants.", sources=(SOURCE,)), EVIDENCE)
    assert not uncited.citations_ok
    answered = score_item(UNANSWERABLE, _answer("Booth in Hall 7 [1].", sources=(SOURCE,)), EVIDENCE)
    assert "answered an unanswerable question" in answered.failures


def test_refusal_precision_and_recall() -> None:
    results = [
        score_item(UNANSWERABLE, _answer("not in my materials", refused=True, route="refusal"), []),
        score_item(ITEM, _answer("not in my materials", refused=True, route="refusal"), []),
        score_item(UNANSWERABLE, _answer("Hall 7 [1]", sources=(SOURCE,)), EVIDENCE),
    ]
    summary = summarise_answers(results)
    assert summary["refusal_recall"]["value"] == 0.5 and summary["refusal_precision"]["value"] == 0.5
    assert summary["correctness"]["value"] == 0.0


def test_the_html_report_escapes_what_came_from_the_run_and_compares() -> None:
    bad = score_item(ITEM, _answer("<script>alert(1)</script> [1]", sources=(SOURCE,)), EVIDENCE)
    good = score_item(ITEM, _answer("IMTS 2024 had 89,020 registrants [1].", sources=(SOURCE,)), EVIDENCE)
    from dataclasses import asdict

    new = {"meta": {"commit": "abc"}, "summary": summarise_answers([bad]), "items": [asdict(bad)], "floors": {}}
    old = {"summary": summarise_answers([good]), "items": [asdict(good)]}
    comparison = compare(new, old)
    assert comparison["broken"] == ["a"] and comparison["metrics"]["correctness"]["delta"] == -1.0
    page = render_html(new, comparison)
    assert "<script>alert" not in page and "&lt;script&gt;alert(1)" in page
    assert "data:image/png;base64," in page and "Now failing" in page


@pytest.fixture
def workspace(tmp_path: Path, cli_env: Path) -> Path:
    lines = [
        {
            "id": "reg",
            "question": "How many registrants did IMTS 2024 have?",
            "language": "en",
            "kind": "answerable",
            "doc_language": "en",
            "documents": ["imts-2024"],
            "expected_facts": [["89,020"]],
        },
        {"id": "booth", "question": "What is GRIP's booth number?", "language": "en", "kind": "unanswerable"},
    ]
    (tmp_path / "mine.jsonl").write_text("\n".join(json.dumps(x) for x in lines) + "\n")
    return tmp_path


def test_assistant_eval_writes_json_and_html_and_checks_floors(workspace: Path, capsys) -> None:
    args = ["eval", "--backend", "none", "--dataset", "mine.jsonl", "--report-dir", "out"]
    assert cli.main(args) == 0
    out = capsys.readouterr().out
    assert "correctness" in out and "retrieval" in out
    report = json.loads((workspace / "out" / "eval.json").read_text())
    assert report["summary"]["n"] == 2 and report["meta"]["prompt_version"] == prompts.prompt_version()
    assert report["retrieval"]["overall"]["hit@5"] == 1.0
    assert (workspace / "out" / "eval.html").read_text().startswith("<!doctype html>")
    # the extractive backend never refuses, so refusal recall is 0 and --check fails
    assert cli.main([*args, "--check", "--compare", "out/eval.json"]) == 1
    assert "compared:" in capsys.readouterr().out


def test_each_part_is_summarised_and_the_floors_judge_the_holdout_part() -> None:
    from assistant.evaluation import runner
    from assistant.evaluation.answers import AnswerResult

    def result(split: str, correct: bool) -> AnswerResult:
        item = parse_item(
            {
                "id": f"{split}-{correct}",
                "question": "Q?",
                "language": "en",
                "kind": "answerable",
                "doc_language": "en",
                "documents": ["d"],
                "expected_facts": [["x"]],
                "split": split,
            },
            "t",
        )
        answer = _answer("x [1]" if correct else "y [1]")
        from dataclasses import replace

        return replace(score_item(item, answer, [s.text for s in answer.sources]), split=split)

    items = [
        parse_item({"id": s, "question": "?", "language": "en", "kind": "unanswerable", "split": s}, "t")
        for s in ("tune", "holdout")
    ]
    answers = [result("tune", True), result("holdout", False)]
    parts = runner._parts(items, answers, None)
    assert set(parts) == {"tune", "holdout"}
    assert parts["tune"]["summary"]["correctness"]["value"] == 1.0
    assert parts["holdout"]["summary"]["correctness"]["value"] == 0.0
    report = {"parts": parts}
    assert runner.gated_part(report) == ("holdout", parts["holdout"])
    assert any(f.startswith("holdout: correctness") for f in runner.report_failures(report))
    whole = runner._parts(
        [parse_item({"id": "a", "question": "?", "language": "en", "kind": "unanswerable"}, "t")], answers[:1], None
    )
    assert list(whole) == ["all"] and runner.gated_part({"parts": whole}) == ("all", whole["all"])
    tune_only = {"parts": {"tune": parts["tune"]}}
    assert runner.gated_part(tune_only) is None and runner.report_failures(tune_only) == []


def test_another_fair_is_evaluated_against_an_index_of_its_own(tmp_path: Path) -> None:
    from assistant.evaluation import runner
    from assistant.settings import Settings

    (tmp_path / "fair" / "knowledge").mkdir(parents=True)
    with pytest.raises(FileNotFoundError, match=r"golden\.jsonl"):
        runner.fair_settings(Settings(), tmp_path / "fair")
    (tmp_path / "fair" / "golden.jsonl").write_text("")
    served = Settings(index_dir=tmp_path / "data" / "index")
    own, golden = runner.fair_settings(served, tmp_path / "fair")
    assert golden == tmp_path / "fair" / "golden.jsonl" and own.knowledge_dir == tmp_path / "fair" / "knowledge"
    assert own.index_dir != served.index_dir and own.collection != served.collection


def test_the_rule_census_counts_the_answers_each_rule_changed_and_how_they_came_out() -> None:
    from dataclasses import replace

    from assistant.evaluation.answers import rule_census

    base = score_item(ITEM, _answer("IMTS 2024 had 89,020 registrants [1].", sources=(SOURCE,)), EVIDENCE)
    results = [
        replace(base, rules=("retry", "check:UnsupportedNumber"), correct=True),
        replace(base, rules=("retry",), correct=False),
        replace(base, rules=("known-unknown",), correct=None, refused=True),
    ]
    census = rule_census(results)
    assert census["retry"] == {"answers": 2, "correct": 1, "wrong": 1, "refused": 0, "unfaithful": 0}
    assert census["known-unknown"]["refused"] == 1 and next(iter(census)) == "retry"
