from __future__ import annotations

from pathlib import Path

import pytest

from assistant.app import build_assistant
from assistant.embedders import FakeEmbedder
from assistant.errors import IndexEmpty, QuestionRejected
from assistant.retrieval import reciprocal_rank_fusion, seen_by
from assistant.settings import Settings


@pytest.fixture
def assistant(settings: Settings, corpus: Path):
    a = build_assistant(settings, embedder=FakeEmbedder())
    a.ingest([corpus], progress=False)
    return a


def test_names_numbers_and_dates_match_exactly(assistant) -> None:
    assert assistant.search("89.020")[0].chunk.doc_id == "imts-2024"
    assert "Canti" in assistant.search("Wer ist Hasan Canti?")[0].chunk.text
    assert assistant.search("1927")[0].chunk.section == "History"


def test_passages_come_ranked_with_scores_and_sources(assistant) -> None:
    passages = assistant.search("When did IMTS take place in Chicago?", k=3, language="en")
    assert [p.rank for p in passages] == [1, 2, 3]
    assert passages[0].score >= passages[1].score >= passages[2].score  # within one language, by fused score
    top = passages[0].to_json()
    assert {"rank", "score", "text", "title", "document", "organisation", "language"} <= set(top)
    assert top["document"].endswith(".md")


def test_one_document_cannot_fill_every_slot(settings: Settings, corpus: Path) -> None:
    long = "\n\n".join(
        f"## Part {i}\nIMTS detail {i}: the fair in Chicago has many halls and visitors." for i in range(10)
    )
    (corpus / "imts-long.en.md").write_text(f"---\nid: imts-long\n---\n# IMTS long\n\n{long}\n")
    a = build_assistant(settings.with_overrides(max_per_document=2), embedder=FakeEmbedder())
    a.ingest([corpus], progress=False)
    passages = a.search("IMTS fair Chicago halls visitors", k=5)
    counts: dict[str, int] = {}
    for p in passages:
        counts[p.chunk.doc_id] = counts.get(p.chunk.doc_id, 0) + 1
    assert max(counts.values()) <= 2 and len(counts) >= 3


def test_document_language_filter(assistant) -> None:
    passages = assistant.search("Hasan Canti", k=5, language="en")
    assert passages and all(p.chunk.language == "en" for p in passages)
    assert all(p.chunk.language == "de" for p in assistant.search("IMTS", k=5, language="de"))


def test_empty_and_overlong_questions_are_refused_politely(assistant) -> None:
    with pytest.raises(QuestionRejected, match="too long"):
        assistant.search("x" * (assistant.settings.max_question_chars + 1))
    with pytest.raises(QuestionRejected):
        assistant.search("   ")


def test_an_empty_index_says_what_to_do(settings: Settings) -> None:
    with pytest.raises(IndexEmpty, match="assistant ingest"):
        build_assistant(settings, embedder=FakeEmbedder()).search("Who leads GRIP?")


def test_search_sees_a_new_generation_without_a_restart(assistant, corpus: Path) -> None:
    assert not any(p.chunk.doc_id == "itb" for p in assistant.search("Europaplatz"))
    (corpus / "itb.en.md").write_text("---\nid: itb\n---\n# ITB\n\nITB is at Europaplatz 7, 44269 Dortmund.\n")
    build_assistant(assistant.settings, embedder=FakeEmbedder()).ingest([corpus], progress=False)
    assert assistant.search("Europaplatz")[0].chunk.doc_id == "itb"


class _SameLanguageBias(FakeEmbedder):
    """Like the real embedder: a question sits closer to any text in its own language than to the same content in
    the other language (English texts here score 0.85 against the query, the German original 0.7)."""

    def _vector(self, text: str) -> list[float]:
        x = 0.7 if "Besucher" in text else 0.85
        return [x, (1 - x * x) ** 0.5] + [0.0] * (self.dim - 2)

    def embed_query(self, text: str) -> list[float]:
        return [1.0] + [0.0] * (self.dim - 1)


def _german_original_and_english_paraphrases(tmp_path: Path, paraphrases: int = 3) -> Path:
    """A page only in German and English paraphrases of it, each its own document."""
    kb = tmp_path / "kb"
    kb.mkdir()
    (kb / "original.de.md").write_text("---\nid: original\n---\n# Messe\n\nDie Messe zählte 1000 Besucher.\n")
    for n in range(1, paraphrases + 1):
        (kb / f"para{n}.en.md").write_text(f"---\nid: para{n}\n---\n# Fair\n\nA paraphrase {n} about the fair.\n")
    return kb


def test_a_document_only_in_the_other_language_is_not_pushed_out_by_paraphrases(
    settings: Settings, tmp_path: Path
) -> None:
    kb = _german_original_and_english_paraphrases(tmp_path)

    def top(ranking: str, lexical_weight: float = 1.0) -> list[str]:
        s = settings.with_overrides(
            index_dir=tmp_path / f"{ranking}-{lexical_weight}",
            language_ranking=ranking,
            max_per_document=1,
            lexical_weight=lexical_weight,
        )
        a = build_assistant(s, embedder=_SameLanguageBias())
        a.ingest([kb], progress=False)
        return [p.chunk.doc_id for p in a.search("How many people came to the fair?", k=3)]

    assert "original" not in top("mixed")  # one ranking: three English paraphrases take every place
    # dense ranks per language: first among German passages, it beats the second English one on the dense side,
    # but not the English passages that BM25 matches too
    assert "original" in top("dense", lexical_weight=0.0) and "original" not in top("dense")
    assert top("interleave")[1] == "original"  # each language's first passage before any second one


class _OriginalClosest(_SameLanguageBias):
    """The German original is the question's closest passage, the English paraphrases a little further."""

    def _vector(self, text: str) -> list[float]:
        x = 0.9 if "Besucher" in text else 0.8
        return [x, (1 - x * x) ** 0.5] + [0.0] * (self.dim - 2)


def test_balanced_scores_a_passage_only_by_the_rankings_that_can_see_it(settings: Settings, tmp_path: Path) -> None:
    """BM25 cannot match the German page for an English question: summed, the paraphrases it matches outrank the
    dense first; divided by the weight of the rankings that can see each passage, the dense first stays first."""
    kb = _german_original_and_english_paraphrases(tmp_path)

    def top(ranking: str) -> list[str]:
        s = settings.with_overrides(index_dir=tmp_path / ranking, language_ranking=ranking, max_per_document=1)
        a = build_assistant(s, embedder=_OriginalClosest())
        a.ingest([kb], progress=False)
        return [p.chunk.doc_id for p in a.search("How many people came to the fair?", k=3)]

    assert "original" not in top("mixed")  # 1/61 for the dense first against 1/62 + 1/61 for each paraphrase
    assert top("balanced")[0] == "original"  # 1/61 against (1/62 + 1/61) / 2


def test_balanced_lifts_no_translation_of_a_page_the_question_language_has(settings: Settings, tmp_path: Path) -> None:
    """A page written in both languages keeps its passage in the question's language; its translation is scored as
    in one mixed ranking (it is no page that BM25 could not reach in any form), so it does not crowd the context."""
    kb = tmp_path / "kb"
    kb.mkdir()
    (kb / "twin.de.md").write_text("---\nid: twin\n---\n# Messe\n\nDie Messe zählte 1000 Besucher.\n")
    (kb / "twin.en.md").write_text("---\nid: twin\n---\n# Fair\n\nThe fair counted 1000 people.\n")
    for n in range(1, 3):
        (kb / f"para{n}.en.md").write_text(f"---\nid: para{n}\n---\n# Fair\n\nA paraphrase {n} about the fair.\n")
    s = settings.with_overrides(index_dir=tmp_path / "idx", language_ranking="balanced", max_per_document=2)
    a = build_assistant(s, embedder=_OriginalClosest())
    a.ingest([kb], progress=False)
    ranked = [(p.chunk.doc_id, p.chunk.language) for p in a.search("How many people came to the fair?", k=4)]
    assert ranked[-1] == ("twin", "de")  # dense first, but a translation: last, as in the mixed ranking


def test_seen_by_divides_by_the_weight_that_could_see_each_passage() -> None:
    fused = seen_by({"same": 0.03, "other": 0.02}, lambda cid: 2.0 if cid == "same" else 1.0)
    assert fused == pytest.approx({"other": 0.02, "same": 0.015})
    assert list(fused) == ["other", "same"]
    assert seen_by({"x": 0.5}, lambda cid: 0.0) == {"x": 0.5}  # nothing could see it: left as it is


def test_reciprocal_rank_fusion_sums_weighted_reciprocal_ranks() -> None:
    fused = reciprocal_rank_fusion([["a", "b", "c"], ["c", "d"]], [1.0, lambda key: 2.0 if key == "c" else 0.5], k=1)
    # a: 1/2; b: 1/3; c: 1/4 + 2/2; d: 0.5/3
    assert fused == pytest.approx({"c": 1.25, "a": 0.5, "b": 1 / 3, "d": 0.5 / 3})
    assert list(fused) == ["c", "a", "b", "d"]


def test_reciprocal_rank_fusion_keeps_first_named_order_on_ties() -> None:
    assert list(reciprocal_rank_fusion([["x", "y"], ["y", "x"]], [1, 1], k=60)) == ["x", "y"]
    assert list(reciprocal_rank_fusion([["y", "x"], ["x", "y"]], [1, 1], k=60)) == ["y", "x"]
