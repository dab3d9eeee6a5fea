"""The prompt's context: only the sentences of the retrieved passages that bear on the question go into it.

Prompt processing is the slow part of a local answer (roughly 6–12 ms a token on 2 cores), and a small model
is distracted by the rest of a passage. Sentences are ranked by cosine similarity to the question with the
same multilingual embedder that retrieved them (so an English question finds the German sentence), plus a
small bonus for shared words so that names and numbers count. The chosen sentences keep their order, and a
sentence that opens with a pronoun brings the sentence before it, so that "He" still has a referent.
"""

from __future__ import annotations

import base64
import itertools
import re
from collections.abc import Sequence

import numpy as np

from .chunking import split_sentences
from .embedders import Embedder
from .lang.resources import alternation, any_of, resources
from .lexical import tokenize
from .types import Chunk, Passage

WORD_BONUS = 0.02  # per shared word stem: enough to break near-ties, too little to outvote meaning
_LANGUAGE = resources()
_SAYS_UNKNOWN = any_of(_LANGUAGE.patterns("unknown_patterns"), re.I)


def says_unknown(sentence: str) -> bool:
    """The sentence says what the materials do not know ("The sources do not name the governor.")."""
    return _SAYS_UNKNOWN.search(sentence) is not None


# A sentence that opens with a pronoun or "there", or whose adverb after the verb points back ("The city was thus
# the first …", „Die Stadt war damit die erste …“).
_LEANS_BACK = re.compile(
    rf"^{alternation(_LANGUAGE.words('pointing_back_openers'))}\b"
    rf"|^\S+\s+\S+\s+{alternation(_LANGUAGE.words('pointing_back_adverbs'))}\b",
    re.I,
)


RANK_PENALTY = 0.01  # per place in the retrieval ranking: the hybrid ranking still counts, a little
# A sentence and its translation (a German document and its English version: 0.91–0.97 for the pairs measured;
# different facts about the same subject: at most 0.78, but two English sentences about one date reach 0.88):
# the second of the two takes no place in the prompt. Only across languages; word-for-word repeats always.
TRANSLATION = 0.88


def select_context(
    questions: Sequence[str],
    passages: Sequence[Passage],
    embedder: Embedder,
    max_sentences: int,
    max_passages: int,
    unknown_sections: Sequence[bool] = (),
) -> list[tuple[Passage, str]]:
    """The prompt's context: the ``max_sentences`` best sentences of all the retrieved ``passages`` (from at most
    ``max_passages`` of them), each passage with its chosen sentences in reading order, the passage with the
    best sentence first.

    Ranking sentences across passages instead of taking a fixed number from each of the top passages lets the
    passage at rank 5 give its one answering sentence, and keeps the prompt short: the answer is usually in one
    sentence, and each further sentence costs prompt time and distracts a small model. ``max_sentences`` 0 gives
    the top ``max_passages`` passages whole. A sentence's score is its mean over ``questions`` (a follow-up
    counts as asked and together with the question before it).

    Sentences that say what the materials do not know (and every sentence of a passage flagged in
    ``unknown_sections``, a "What is not known" section) never go into the prompt: a small model reads them as
    the answer and refuses a question the sentence before answered.
    """
    flagged = list(unknown_sections) + [False] * (len(passages) - len(unknown_sections))
    if max_sentences <= 0:
        return [(p, p.chunk.text) for p, f in zip(passages, flagged, strict=True) if not f][:max_passages]
    split = [split_sentences(p.chunk.text) for p in passages]
    usable = [i for i in range(len(passages)) if not flagged[i]]
    queries = np.asarray([embedder.embed_query(q) for q in questions], dtype=np.float32)
    dim = queries.shape[1]
    vectors = {i: sentence_vectors(passages[i].chunk, len(split[i]), dim) for i in usable}
    missing = [i for i, v in vectors.items() if v is None]
    if missing:
        embedded = embed_sentences(embedder, [passages[i].chunk for i in missing], [split[i] for i in missing])
        vectors.update(zip(missing, embedded, strict=True))
    wanted = set(tokenize(" ".join(questions)))
    ranked: list[tuple[float, int, int]] = []  # (score, passage, sentence) of the sentences that know something
    for i in usable:
        matrix = vectors[i]
        assert matrix is not None
        similarity = (matrix @ queries.T).mean(axis=1)
        for j, sentence in enumerate(split[i]):
            if not says_unknown(sentence):
                score = float(similarity[j]) + WORD_BONUS * len(wanted & set(tokenize(sentence))) - RANK_PENALTY * i
                ranked.append((score, i, j))
    ranked.sort(key=lambda r: -r[0])
    chosen: dict[int, list[int]] = {}  # passage → its chosen sentences, passages in order of their best sentence
    kept: list[tuple[str, str, np.ndarray]] = []  # (language, text, vector) of the chosen sentences
    for _, i, j in ranked:
        if len(kept) == max_sentences:
            break
        language, vector = passages[i].chunk.language, vectors[i][j]  # type: ignore[index]
        if any(
            text == split[i][j] or (lang != language and float(v @ vector) >= TRANSLATION) for lang, text, v in kept
        ):
            continue  # said already, here or in the other language
        if i not in chosen:
            if len(chosen) == max_passages:
                continue
            chosen[i] = []
        chosen[i].append(j)
        kept.append((language, split[i][j], vector))
    return [
        (passages[i], " ".join(split[i][j] for j in with_antecedents(split[i], picked))) for i, picked in chosen.items()
    ]


def embed_sentences(embedder: Embedder, chunks: Sequence[Chunk], split: Sequence[list[str]]) -> list[np.ndarray]:
    """The vectors of each chunk's sentences (``split``), one matrix per chunk, in one call to the embedder; each
    sentence with its chunk's title, as the document prompt wants."""
    flat = [s for sentences in split for s in sentences]
    titles = [c.title for c, sentences in zip(chunks, split, strict=True) for _ in sentences]
    vectors = np.asarray(embedder.embed_documents(flat, titles), dtype=np.float32)
    bounds = np.cumsum([0, *(len(sentences) for sentences in split)])
    return [vectors[a:b] for a, b in itertools.pairwise(bounds)]


def encode_sentence_vectors(vectors: Sequence[Sequence[float]] | np.ndarray) -> str:
    """Sentence vectors as stored with a chunk: "<dimensions>:" then float16 (ranking a handful of sentences
    needs no more) in base64."""
    matrix = np.asarray(vectors, dtype="<f2")
    return f"{matrix.shape[-1]}:" + base64.b64encode(matrix.tobytes()).decode("ascii")


def sentence_vectors(chunk: Chunk, sentences: int, dim: int) -> np.ndarray | None:
    """The chunk's stored sentence vectors, or None when it has none or they do not fit its ``sentences``
    sentences and the embedder's ``dim`` dimensions."""
    stored_dim, _, data = chunk.sentence_vectors.partition(":")
    if stored_dim != str(dim):
        return None
    try:
        flat = np.frombuffer(base64.b64decode(data, validate=True), dtype="<f2")
    except ValueError:
        return None
    if flat.size != sentences * dim:
        return None
    return flat.reshape(sentences, dim).astype(np.float32)


def with_antecedents(sentences: Sequence[str], picked: Sequence[int]) -> list[int]:
    """The picked sentences in reading order, each with the sentence its opening pronoun points back to."""
    chosen = set(picked)
    for j in picked:
        if j > 0 and _LEANS_BACK.match(sentences[j]):
            chosen.add(j - 1)
    return sorted(chosen)
