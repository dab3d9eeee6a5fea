"""The content-gap list: the questions the materials could not answer, grouped by what they ask.

Grouping uses the assistant's own multilingual embedder, so that a German and an English question about the same
thing land in one group. Each question joins the first group whose centre is at least ``similarity`` close, else
starts a group; groups are listed largest first (ties: the one asked first). Simple and deterministic, and a fair's
few hundred unanswered questions are grouped in a second.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from ..embedders import Embedder
from ..record import RecordRow

# Cosine between a question and a group's centre for the question to join the group. Measured with the default
# embedder (query prompts): a German and an English question asking the same thing 0.70–0.76 („Wo ist der Stand
# von X?" / "Where is X's booth?" 0.73), paraphrases in one language up to 0.89; different questions 0.05–0.37, and
# two about one organisation (its booth number, its head) 0.61. tests/test_real_models.py keeps it so.
SIMILARITY = 0.65
EXAMPLES = 5


@dataclass
class GapGroup:
    """Questions that ask the same thing; ``questions`` in the order they were asked (repeats included)."""

    questions: list[str] = field(default_factory=list)
    languages: list[str] = field(default_factory=list)
    _sum: list[float] = field(default_factory=list, repr=False)

    @property
    def size(self) -> int:
        return len(self.questions)

    def examples(self, limit: int = EXAMPLES) -> list[str]:
        """Distinct questions, most often asked first."""
        counts: dict[str, int] = {}
        for q in self.questions:
            counts[q] = counts.get(q, 0) + 1
        return sorted(counts, key=lambda q: -counts[q])[:limit]

    def language(self) -> str:
        """The language most of its questions were asked in."""
        return max(sorted(set(self.languages)), key=self.languages.count)

    def add(self, question: str, language: str, vector: Sequence[float]) -> None:
        self.questions.append(question)
        self.languages.append(language)
        self._sum = [a + b for a, b in zip(self._sum, vector, strict=True)] if self._sum else list(vector)

    def closeness(self, vector: Sequence[float]) -> float:
        """Cosine between ``vector`` and the group's centre."""
        norm = math.sqrt(sum(v * v for v in self._sum)) or 1.0
        return sum(a * b for a, b in zip(self._sum, vector, strict=True)) / norm


def is_gap(row: RecordRow) -> bool:
    """Not answered from the materials: refused after a search (not a question declined on purpose, such as one
    for a person's phone number), or rated down as "did not answer"."""
    refused = row.refused and row.retrieved
    return refused or (row.rating == "down" and row.feedback_reason == "did_not_answer")


def group_gaps(rows: Sequence[RecordRow], embedder: Embedder, similarity: float = SIMILARITY) -> list[GapGroup]:
    """The content gaps among ``rows``, grouped, largest group first."""
    gaps = [r for r in rows if is_gap(r)]
    if not gaps:
        return []
    vectors = [_unit(embedder.embed_query(r.question)) for r in gaps]
    groups: list[GapGroup] = []
    for row, vector in zip(gaps, vectors, strict=True):
        best = max(groups, key=lambda g: g.closeness(vector), default=None)
        if best is None or best.closeness(vector) < similarity:
            best = GapGroup()
            groups.append(best)
        best.add(row.question, row.language, vector)
    order = {id(g): i for i, g in enumerate(groups)}
    return sorted(groups, key=lambda g: (-g.size, order[id(g)]))


def _unit(vector: Sequence[float]) -> list[float]:
    norm = math.sqrt(sum(v * v for v in vector)) or 1.0
    return [v / norm for v in vector]
