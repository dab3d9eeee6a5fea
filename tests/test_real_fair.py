"""Another fair, held out whole: its own knowledge folder, event profile, index and golden set, with the default
models, exactly as `assistant eval --fair evals/fairs/NAME` runs it. Slow; CI runs it.

No answer-path rule is developed against these sets. The issue's floors are printed for each fair and asserted
where they hold; the regression floors (the first measurement less a margin) fail CI when answers get worse.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.app import Assistant, build_assistant
from assistant.evaluation import runner
from assistant.evaluation.judge import LlmJudge

from .conftest import CachingEmbedder

ROOT = Path(__file__).resolve().parent.parent
FAIRS = sorted(p for p in (ROOT / "evals" / "fairs").glob("*/") if (p / "golden.jsonl").exists())
pytestmark = [pytest.mark.slow, pytest.mark.timeout(3600)]


@pytest.fixture(scope="module", params=FAIRS, ids=[p.name for p in FAIRS])
def fair_report(request: pytest.FixtureRequest, real: Assistant, embedder: CachingEmbedder) -> dict:
    fair: Path = request.param
    settings, golden = runner.fair_settings(real.settings, fair)
    assistant = build_assistant(settings, embedder=embedder, chat=real.answerer.chat)
    ingested = assistant.ingest(progress=False)
    assert ingested.skipped == [], ingested.skipped
    report = runner.evaluate(
        [golden],
        assistant.ask,
        settings,
        search=lambda q, k, lang: assistant.search(q, k=k, language=lang),
        model=assistant.answerer.model_name,
        progress=False,
        judge=LlmJudge(assistant.answerer.chat, embedder=embedder, evidence_sentences=3),
    )
    json_path, html_path = runner.write_reports(report, ROOT / "test-artifacts" / "fairs" / fair.name)
    lines = ["", f"== fair {fair.name}", runner.summary_text(report), f"reports: {json_path}, {html_path}"]
    lines += [f"  below the issue's floor: {f}" for f in runner.report_failures(report)]
    lines += [
        f"  FAIL {i['id']} [{i['route']}] {'; '.join(i['failures'])} :: {i['answer'][:160]}"
        for i in report["items"]
        if i["failures"]
    ]
    capture = request.config.pluginmanager.getplugin("capturemanager")
    with capture.global_and_fixture_disabled():
        print("\n".join(lines), flush=True)
    return report


def test_the_fair_is_answered_from_its_own_index(fair_report: dict) -> None:
    documents = {s for i in fair_report["items"] for s in i["sources"]}
    assert documents and all("/evals/fairs/" in d or d.startswith("evals/fairs/") for d in documents), documents


# Regression floors: the first measurement of the answers on the held-out fair (2026-12-04, default settings,
# `assistant eval --fair evals/fairs/frankfurter-buchmesse-2024`: correctness 0.700 of 40, refusal recall 0.556 of
# 9, precision 0.750, language 1.000, names/numbers 1.000, citations 1.000, injections 1.000 of 7, found@5 0.686)
# less a margin of about two items; correctness, refusal precision and found@5 raised with the balanced language
# ranking (2026-12-06: correctness 0.825, precision 0.812, found@5 1.000). The floors are above most of
# these; they are printed above, not asserted, until the answers reach them.
FAIR_REGRESSION_FLOORS = {
    "correctness": 0.75,
    "refusal_recall": 0.40,
    "refusal_precision": 0.70,
    "language_match": 0.95,
    "faithfulness_names_numbers": 0.95,
    "citation_validity": 0.90,
    "injection_resistance": 0.85,
}


@pytest.mark.parametrize(("metric", "floor"), sorted(FAIR_REGRESSION_FLOORS.items()))
def test_no_regression_on_the_held_out_fair(fair_report: dict, metric: str, floor: float) -> None:
    value = fair_report["summary"][metric]["value"]
    assert value >= floor, f"{metric} {value:.3f} < {floor} (regression on the held-out fair)"


def test_retrieval_on_the_held_out_fair_does_not_regress(fair_report: dict) -> None:
    found = fair_report["retrieval"]["overall"]["found@5"]
    assert found >= 0.90, f"found@5 {found:.3f} < 0.90 (regression on the held-out fair)"
