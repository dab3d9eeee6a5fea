"""Hybrid retrieval: dense (multilingual embeddings) + lexical (BM25), fused by reciprocal rank, diversified."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from .embedders import Embedder
from .errors import IndexEmpty
from .lang import detect_language
from .lexical import BM25
from .questions import accepted_question
from .settings import Settings
from .store import VectorStore
from .types import Chunk, Passage


@dataclass
class _LexicalIndex:
    generation: str | None
    chunks: list[Chunk]
    bm25: BM25

    def __post_init__(self) -> None:
        self.by_id = {c.id: c for c in self.chunks}
        self.languages = sorted({c.language for c in self.chunks})
        self.doc_languages: dict[str, set[str]] = {}
        for c in self.chunks:
            self.doc_languages.setdefault(c.doc_id, set()).add(c.language)


class HybridRetriever:
    def __init__(self, store: VectorStore, embedder: Embedder, settings: Settings) -> None:
        self.store = store
        self.embedder = embedder
        self.settings = settings
        self._lexical: _LexicalIndex | None = None

    def _lexical_index(self) -> _LexicalIndex:
        generation = self.store.generation()
        if self._lexical is None or self._lexical.generation != generation:
            chunks = self.store.chunks()
            self._lexical = _LexicalIndex(generation, chunks, BM25([c.lexical_text() for c in chunks]))
        return self._lexical

    def search(
        self, question: str, k: int | None = None, language: str | None = None, max_per_document: int | None = None
    ) -> list[Passage]:
        """Rank passages for a question; ``language`` restricts the documents searched (not the question);
        ``max_per_document`` overrides the setting."""
        question = accepted_question(question, self.settings.max_question_chars, "en", letters=False)  # "1927"
        lexical = self._lexical_index()
        if not lexical.chunks:
            raise IndexEmpty()
        k = k or self.settings.top_k
        n = self.settings.candidates

        question_language = detect_language(question)
        by_id = lexical.by_id
        dense_rankings = self._dense(self.embedder.embed_query(question), n, language, lexical)
        dense = {cid: similarity for ranking in dense_rankings for cid, similarity in ranking}

        scores = lexical.bm25.scores(question)
        order = sorted(
            (i for i, c in enumerate(lexical.chunks) if scores[i] > 0 and (language is None or c.language == language)),
            key=lambda i: -scores[i],
        )[:n]
        lex = {lexical.chunks[i].id: scores[i] for i in order}  # best first

        def lexical_weight(cid: str) -> float:
            weight = self.settings.lexical_weight
            if by_id[cid].language != question_language:
                weight *= self.settings.lexical_cross_language_weight
            return weight

        rankings = [*([cid for cid, _ in ranking] for ranking in dense_rankings), list(lex)]
        weight: list[float | Callable[[str], float]] = [self.settings.dense_weight]
        weights = weight * len(dense_rankings) + [lexical_weight]
        fused = reciprocal_rank_fusion(rankings, weights, self.settings.rrf_k)
        if language is None and self.settings.language_ranking == "balanced":
            dense_seeing = self.settings.dense_weight * len(dense_rankings)

            def seeing(cid: str) -> float:
                """Dense and lexical, except for a page that exists only in another language than the question's:
                BM25 could not see it, and no version of it in the question's language stands in for it."""
                if question_language in lexical.doc_languages[by_id[cid].doc_id]:
                    return dense_seeing + self.settings.lexical_weight
                return dense_seeing + lexical_weight(cid)

            fused = seen_by(fused, seeing)
        ranked = [by_id[cid] for cid in fused]
        if language is None and self.settings.language_ranking == "interleave":
            ranked = interleave(ranked)
        chosen = diversify(ranked, k, max_per_document or self.settings.max_per_document)
        return [
            Passage(
                chunk=c,
                rank=i,
                score=fused[c.id],
                dense_score=dense.get(c.id),
                lexical_score=lex.get(c.id),
            )
            for i, c in enumerate(chosen, 1)
        ]

    def _dense(
        self, vector: list[float], n: int, language: str | None, lexical: _LexicalIndex
    ) -> list[list[tuple[str, float]]]:
        """The dense ranking, (id, similarity) best first; with ``language_ranking = "dense"`` and no language
        asked for, one ranking per language, so that a passage ranks among the passages of its own language."""
        per_language = language is None and self.settings.language_ranking == "dense"
        languages: list[str | None] = [*lexical.languages] if per_language else [language]
        return [
            [(h.id, h.similarity) for h in self.store.search(vector, n, lang) if h.id in lexical.by_id]
            for lang in languages
        ]


def reciprocal_rank_fusion(
    rankings: Sequence[Sequence[str]], weights: Sequence[float | Callable[[str], float]], k: int
) -> dict[str, float]:
    """Each id's fused score, best first: the sum over the rankings that hold it of weight / (k + rank), ranks
    from 1. A weight is a number for the whole ranking or a function of the id (a passage's own weight); ties keep
    the order in which the rankings first name the ids."""
    fused: dict[str, float] = {}
    for ranking, weight in zip(rankings, weights, strict=True):
        for rank, key in enumerate(ranking):
            fused[key] = fused.get(key, 0.0) + (weight(key) if callable(weight) else weight) / (k + rank + 1)
    return dict(sorted(fused.items(), key=lambda item: -item[1]))


def seen_by(fused: dict[str, float], seeing: Callable[[str], float]) -> dict[str, float]:
    """Each fused score divided by the weight of the rankings that can see that passage (``seeing``), best first.

    BM25 is blind across languages (its weight there is ``lexical_cross_language_weight``, 0 by default): a
    passage in the other language than the question can gain only from the dense ranking, so a plain sum lets
    any passage in the question's language that BM25 finds at all outrank it, and a page that exists only in
    the other language loses to paraphrases of it. Divided by what could see it, a passage is scored by how well
    it ranks where it can rank: the dense first of the other language ties with a passage first in both rankings.
    """
    return dict(sorted(((cid, f / (seeing(cid) or 1.0)) for cid, f in fused.items()), key=lambda item: -item[1]))


def interleave(ranked: list[Chunk]) -> list[Chunk]:
    """Each language's passages in their own order, merged place by place (first of each, then second of each …),
    the better-fused one first at each place: the best passage of the other language stands second at worst."""
    place: Counter[str] = Counter()
    keyed = []
    for position, chunk in enumerate(ranked):
        keyed.append((place[chunk.language], position, chunk))
        place[chunk.language] += 1
    return [chunk for _, _, chunk in sorted(keyed, key=lambda t: (t[0], t[1]))]


def diversify(ranked: list[Chunk], k: int, max_per_document: int) -> list[Chunk]:
    """Best-first, with at most ``max_per_document`` passages of one document (all its languages)."""
    chosen: list[Chunk] = []
    per_doc: Counter[str] = Counter()
    for chunk in ranked:
        if per_doc[chunk.doc_id] < max_per_document:
            chosen.append(chunk)
            per_doc[chunk.doc_id] += 1
            if len(chosen) == k:
                break
    return chosen
