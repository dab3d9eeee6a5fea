"""The quoted answer: the best sentences of the best passages, with citations. No language model needed.

Used when no chat model is configured, when the backend is down, and when a generated answer fails its
check twice. Quotes stay in the language of their source; nothing is paraphrased, so nothing is invented.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from .chunking import split_sentences
from .focus import says_unknown
from .lang.resources import resources
from .lexical import tokenize
from .slots import WEB_WORDS, fills_slot
from .types import Passage

QUOTE_SHARED = 2  # words a quoted sentence must share with the question (slot_quote)
# A sentence that shares only these with a question after a website names a different site.
_WEB_WORDS = frozenset(tokenize(" ".join(WEB_WORDS)))


def _quotes(language: str) -> tuple[str, str]:
    """The quotation marks of ``language`` („…“ in German), typographic English ones for a language without a file."""
    resource = resources().get(language)
    opening, closing = resource.quotes if resource is not None else ("“", "”")
    return opening, closing


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
    open_q, close_q = _quotes(language)
    quotes = [f"{open_q}{' '.join(best_sentences(question, passages[i]))}{close_q} [{i + 1}]" for i in chosen]
    return f"{intro} " + " ".join(quotes), [i + 1 for i in chosen]


def slot_quote(
    question: str,
    slot: str,
    passages: Sequence[Passage],
    language: str,
    intro: str,
    skip: Callable[[Passage], bool] = lambda _: False,
) -> tuple[str, list[int]] | None:
    """For a question after a website or a count ("What is firm X's website?", "How many years had the partnership
    lasted by 2018?"): the sentence of the ``passages`` that gives that kind of value and shares at least
    ``QUOTE_SHARED`` words with the question, quoted with its source number; None when no sentence does.

    A small model asked for a website often writes "Firm X's website is [1]." and leaves the address out, though the
    passage it cites gives it; asked how many years, it gives the year the count started. The words in common keep
    the quote on the question's subject; for a website one of them must be other than the words for "website", so
    the address of another organisation is never offered. Sentences in the answer's language come first, then
    those sharing more of the question's words, then the better-ranked passages. Sentences that say what is not
    known are never quoted, nor passages for which ``skip`` is true (their numbers stay)."""
    wanted = set(tokenize(question))
    best: tuple[tuple[bool, int, int, int], int, str] | None = None
    for n, passage in enumerate(passages, 1):
        if skip(passage):
            continue
        for j, sentence in enumerate(split_sentences(passage.chunk.text)):
            if not fills_slot(sentence, slot, question) or says_unknown(sentence):
                continue
            shared = wanted & set(tokenize(sentence))
            if len(shared) < QUOTE_SHARED or (slot == "web" and not shared - _WEB_WORDS):
                continue
            key = (passage.chunk.language != language, -len(shared), n, j)
            if best is None or key < best[0]:
                best = (key, n, sentence)
    if best is None:
        return None
    _, n, sentence = best
    open_q, close_q = _quotes(language)
    return f"{intro} {open_q}{sentence}{close_q} [{n}]", [n]


def draft_quote(
    draft: str, passages: Sequence[Passage], cited: Sequence[int], language: str, intro: str, min_shared: int = 3
) -> tuple[str, list[int]] | None:
    """What a garbled draft meant, in the sources' words: of each passage the draft cites, the sentence that shares
    the most words with it (at least ``min_shared``), quoted with its number. None when the draft cites nothing, a
    cited passage is in another language than the answer (the quote would not be in the visitor's language) or
    no sentence shares enough words."""
    if not cited or any(passages[n - 1].chunk.language != language for n in cited):
        return None
    said = set(tokenize(draft))
    open_q, close_q = _quotes(language)
    quotes: list[str] = []
    numbers: list[int] = []
    for n in cited:
        scored = [
            (len(said & set(tokenize(s))), -j, s) for j, s in enumerate(split_sentences(passages[n - 1].chunk.text))
        ]
        shared, _, sentence = max(scored, default=(0, 0, ""))
        if shared >= min_shared and not says_unknown(sentence):
            quotes.append(f"{open_q}{sentence}{close_q} [{n}]")
            numbers.append(n)
    return (f"{intro} " + " ".join(quotes), numbers) if quotes else None
