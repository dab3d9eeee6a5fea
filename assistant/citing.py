"""Which passages an answer cites: the numbers it wrote, mended where a small model cites too few or the wrong one.

Pure functions over an answer's text and the passages the model was given (numbered from 1, as in the prompt).
"""

from __future__ import annotations

from collections.abc import Sequence

from .grounding import check_answer, cited_indices, strip_citations
from .lang import detect_language
from .lexical import tokenize
from .types import Passage

WORDS_AHEAD = 2  # see word_source


def evidence(passages: Sequence[Passage]) -> list[str]:
    """What the check reads of each passage: its title and organisation count as stated too."""
    return [f"{p.chunk.title}\n{p.chunk.organisation}\n{p.chunk.text}" for p in passages]


def covering(
    text: str, passages: Sequence[Passage], numbers: Sequence[int], language: str, preference: Sequence[int] = ()
) -> tuple[list[int], int]:
    """``numbers``, and, while a name or number of the answer stands in none of their passages, the passage that
    holds the most of those left (ties: the higher ``preference``, then the better rank). Returns the sorted
    numbers and how many names and numbers stand in none of them."""
    chosen = sorted(numbers)

    def missing(candidate: Sequence[int]) -> int:
        found = evidence([passages[n - 1] for n in sorted(candidate)])
        return len(check_answer(text, found, language, detect_language).unsupported)

    left = missing(chosen)
    while left:
        gains = {n: left - missing([*chosen, n]) for n in range(1, len(passages) + 1) if n not in chosen}
        best = max(gains, key=lambda n: (gains[n], preference[n - 1] if preference else 0, -n), default=None)
        if best is None or gains[best] <= 0:
            break
        chosen = sorted([*chosen, best])
        left -= gains[best]
    return chosen, left


def recite(text: str, passages: Sequence[Passage], cited: list[int], language: str) -> str | None:
    """A fact the model took from another passage than the one it cited (a small model often cites [1] for
    everything): when other passages it was given hold every missing fact, the text with those cited too."""
    numbers, left = covering(text, passages, cited, language)
    if left:
        return None
    added = "".join(f"[{n}]" for n in numbers if n not in cited)
    return f"{text.rstrip()} {added}"


def shared_words(text: str, passages: Sequence[Passage]) -> list[int]:
    """How many word stems of the answer (its citation markers aside) each passage holds."""
    words = set(tokenize(strip_citations(text)))
    return [len(words & set(tokenize(p.chunk.text))) for p in passages]


def cited(text: str, passages: Sequence[Passage], language: str) -> list[int]:
    """The passages the answer cites. Without markers: those that share the most words with it, then, while
    a number or name of the answer stands in none of them, the passage that holds the most of those left
    (an uncited answer was checked against all its passages, so every fact stands in one of them)."""
    numbers = [n for n in cited_indices(text) if 1 <= n <= len(passages)]
    if numbers:
        return numbers
    overlap = shared_words(text, passages)
    best = max(overlap, default=0)
    if not best:
        return []
    numbers = [i + 1 for i, o in enumerate(overlap) if o >= 0.6 * best]
    return covering(text, passages, numbers, language, overlap)[0]


def word_source(text: str, passages: Sequence[Passage], cited: Sequence[int]) -> list[int]:
    """[the number of the passage that shares the most words with the answer], when the answer does not cite it
    and it shares at least ``WORDS_AHEAD`` more than every passage cited; else []. A small model often cites [1]
    for what it took from another passage ("Firm X builds quick-change and connection systems [1]" under the
    passage that names firm X's managing partner); names and numbers are re-cited by the check, this catches the
    claims made of common words, so that the sources shown hold what the answer says."""
    if not cited or not passages:
        return []
    shared = shared_words(text, passages)
    best = max(range(len(passages)), key=lambda i: (shared[i], -i)) + 1
    if best in cited or shared[best - 1] < max(shared[n - 1] for n in cited) + WORDS_AHEAD:
        return []
    return [best]


def with_citations(text: str, passages: Sequence[Passage], language: str) -> tuple[str, list[int], list[str]]:
    """The answer with its source numbers, the numbers, and the rules that added any: an answer the model left
    without markers gets those of the passages that hold its facts (``cite-by-facts``), and one that cites a passage
    sharing few of its words the passage that shares the most (``cite-by-words``), appended (and streamed as the
    last piece)."""
    numbers = cited(text, passages, language)
    marked = bool(cited_indices(text))
    added = word_source(text, passages, numbers) if marked else numbers
    if not added:
        return text, numbers, []
    suffix = " " + "".join(f"[{n}]" for n in added)
    rule = "cite-by-words" if marked else "cite-by-facts"
    return text.rstrip() + suffix, [*numbers, *(n for n in added if n not in numbers)], [rule]
