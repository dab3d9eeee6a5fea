"""The quoted answer: the best sentences of the best passages, with citations. No language model needed.

Used when no chat model is configured, when the backend is down, and when a generated answer fails its
check twice. Quotes stay in the language of their source; nothing is paraphrased, so nothing is invented.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from .chunking import split_sentences
from .focus import says_unknown
from .lexical import tokenize
from .slots import fills_slot
from .types import Passage

# The words of a question after a website; a sentence that shares only these with it names a different site.
_WEB_WORDS = frozenset(
    tokenize("website websites web site address homepage webseite internetseite internetadresse url")
)


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


def address_quote(
    question: str,
    passages: Sequence[Passage],
    language: str,
    intro: str,
    skip: Callable[[Passage], bool] = lambda _: False,
) -> tuple[str, list[int]] | None:
    """For "What is ITB's website?": the sentence of the ``passages`` that gives a web address and names what the
    question names, quoted with its source number; None when no sentence does.

    A small model that is asked for a website often writes "ITB's website is [1]." and leaves the address out,
    though the passage it cites gives it. The sentence must share a word with the question besides the words for
    "website", so the address of another organisation is never offered. Sentences in the answer's language come
    first, then those sharing more of the question's words, then the better-ranked passages. Passages for which
    ``skip`` is true are not quoted (their numbers stay)."""
    wanted = set(tokenize(question))
    best: tuple[tuple[bool, int, int, int], int, str] | None = None
    for n, passage in enumerate(passages, 1):
        if skip(passage):
            continue
        for j, sentence in enumerate(split_sentences(passage.chunk.text)):
            if not fills_slot(sentence, "web") or says_unknown(sentence):
                continue
            shared = wanted & set(tokenize(sentence))
            if not shared - _WEB_WORDS:
                continue
            key = (passage.chunk.language != language, -len(shared), n, j)
            if best is None or key < best[0]:
                best = (key, n, sentence)
    if best is None:
        return None
    _, n, sentence = best
    open_q, close_q = ("„", "“") if language == "de" else ("“", "”")
    return f"{intro} {open_q}{sentence}{close_q} [{n}]", [n]
