"""The quoted answer: the best sentences of the best passages, with citations. No language model needed.

Used when no chat model is configured, when the backend is down, and when a generated answer fails its
check twice. Quotes stay in the language of their source; nothing is paraphrased, so nothing is invented.
"""

from __future__ import annotations

from collections.abc import Sequence

from .chunking import split_sentences
from .lexical import tokenize
from .types import Passage


def best_sentences(question: str, passage: Passage, limit: int = 2) -> list[str]:
    wanted = set(tokenize(question))
    sentences = split_sentences(passage.chunk.text)
    scored = sorted(range(len(sentences)), key=lambda i: (-len(wanted & set(tokenize(sentences[i]))), i))[:limit]
    return [sentences[i] for i in sorted(scored)]


def extractive_answer(
    question: str, passages: Sequence[Passage], language: str, intro: str, max_passages: int = 2
) -> tuple[str, list[int]]:
    """Returns the answer text and the 1-based numbers of the passages quoted."""
    order = sorted(range(len(passages)), key=lambda i: (passages[i].chunk.language != language, i))
    chosen: list[int] = []
    seen_docs: set[str] = set()
    for i in order:
        doc = passages[i].chunk.doc_id
        if doc in seen_docs:
            continue
        seen_docs.add(doc)
        chosen.append(i)
        if len(chosen) == max_passages:
            break
    chosen.sort()
    open_q, close_q = ("„", "“") if language == "de" else ("“", "”")
    quotes = [f"{open_q}{' '.join(best_sentences(question, passages[i]))}{close_q} [{i + 1}]" for i in chosen]
    return f"{intro} " + " ".join(quotes), [i + 1 for i in chosen]
