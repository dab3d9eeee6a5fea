"""Passage focus: only the sentences of a passage that bear on the question go into the prompt.

Prompt processing is the slow part of a local answer (roughly 6–12 ms a token on 2 cores), and a small model
is distracted by the rest of a passage. Sentences are ranked by cosine similarity to the question with the
same multilingual embedder that retrieved them (so an English question finds the German sentence), plus a
small bonus for shared words so that names and numbers count. The chosen sentences keep their order, and a
sentence that opens with a pronoun brings the sentence before it, so that "He" still has a referent.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from .chunking import split_sentences
from .embedders import Embedder
from .lexical import tokenize
from .types import Passage

WORD_BONUS = 0.02  # per shared word stem: enough to break near-ties, too little to outvote meaning
_SAYS_UNKNOWN = re.compile(
    r"nicht (genannt|bekannt|angegeben|enthalten|überprüft)|stehen? nicht in den|nicht in den (quellen|unterlagen)|"
    r"not (named|known|stated|given|mentioned|verified|included)|unknown|unbekannt",
    re.I,
)
_LEANS_BACK = re.compile(
    r"^(er|sie|es|ihr|ihre|sein|seine|dort|dabei|damit|diese[rsmn]?|dies|he|she|it|its|they|their|there|"
    r"this|these|that|those)\b",
    re.I,
)


def focus_passages(question: str, passages: Sequence[Passage], embedder: Embedder, max_sentences: int) -> list[str]:
    """The text of each passage cut down to its ``max_sentences`` best sentences (all of a short passage)."""
    if max_sentences <= 0:
        return [p.chunk.text for p in passages]
    split = [_known(split_sentences(p.chunk.text)) for p in passages]
    texts = [" ".join(sentences) for sentences in split]
    todo = [i for i, sentences in enumerate(split) if len(sentences) > max_sentences]
    if not todo:
        return texts
    flat = [s for i in todo for s in split[i]]
    titles = [passages[i].chunk.title for i in todo for _ in split[i]]
    vectors = embedder.embed_documents(flat, titles)
    query = embedder.embed_query(question)
    wanted = set(tokenize(question))
    offset = 0
    for i in todo:
        sentences = split[i]
        scores = [
            _dot(query, vectors[offset + j]) + WORD_BONUS * len(wanted & set(tokenize(s)))
            for j, s in enumerate(sentences)
        ]
        offset += len(sentences)
        texts[i] = " ".join(sentences[j] for j in pick(sentences, scores, max_sentences))
    return texts


def _known(sentences: list[str]) -> list[str]:
    """Without the sentences that only say what the sources do not say, unless that is all there is: a small
    model that reads "other contacts are not named in the sources" refuses the question the sentence before
    answered. (What is not known is still answered: see ``from_unknowns`` in the answer pipeline.)"""
    known = [s for s in sentences if not _SAYS_UNKNOWN.search(s)]
    return known or sentences


def pick(sentences: Sequence[str], scores: Sequence[float], max_sentences: int) -> list[int]:
    """Indices of the best sentences in reading order, each with the sentence its pronoun points back to."""
    best = sorted(range(len(sentences)), key=lambda j: -scores[j])[:max_sentences]
    chosen = set(best)
    for j in best:
        if j > 0 and _LEANS_BACK.match(sentences[j]):
            chosen.add(j - 1)
    return sorted(chosen)


def _dot(a: Sequence[float], b: Sequence[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))
