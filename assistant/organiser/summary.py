"""The report's numbers, worked out from the recorded rows: every section a ``Table`` (its CSV is the same)."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from ..record import RecordRow
from .gaps import GapGroup
from .tables import Table

REASON_WORDS = {
    "wrong": "wrong",
    "incomplete": "incomplete",
    "not_my_language": "not my language",
    "did_not_answer": "did not answer",
}


@dataclass(frozen=True)
class Summary:
    """Everything the report shows, as tables (the plots are drawn from them)."""

    overview: Table
    gaps: Table
    organisations: Table
    topics: Table
    rated_down: Table
    speed: Table
    routes: Table

    def tables(self) -> list[Table]:
        return [self.overview, self.gaps, self.organisations, self.topics, self.rated_down, self.speed, self.routes]


def summarise(rows: Sequence[RecordRow], groups: Sequence[GapGroup]) -> Summary:
    return Summary(
        overview=_overview(rows),
        gaps=_gaps(groups),
        organisations=_most_asked("organisations", "Most asked organisations", rows, lambda r: r.organisations),
        topics=_most_asked("topics", "Most asked topics", rows, lambda r: {d["title"] for d in r.documents}),
        rated_down=_rated_down(rows),
        speed=_speed(rows),
        routes=_routes(rows),
    )


def _overview(rows: Sequence[RecordRow]) -> Table:
    count = Counter(r.rating for r in rows)
    values = [
        ("questions answered", len(rows)),
        ("conversations", len({r.conversation_id for r in rows})),
        ("refused", sum(r.refused for r in rows)),
        ("rated up", count["up"]),
        ("rated down", count["down"]),
    ]
    return Table("overview", "Overview", ("what", "count"), tuple((k, str(v)) for k, v in values))


def _gaps(groups: Sequence[GapGroup]) -> Table:
    rows = tuple((str(i), str(g.size), g.language(), " | ".join(g.examples())) for i, g in enumerate(groups, start=1))
    return Table(
        "content-gaps", "Questions the materials could not answer", ("group", "asked", "language", "examples"), rows
    )


def _most_asked(key: str, title: str, rows: Sequence[RecordRow], names: Callable[[RecordRow], Iterable[str]]) -> Table:
    """How often each name was among an answer's sources, per language and surface; most asked first."""
    counts = Counter((name, r.language, r.surface) for r in rows for name in names(r) if name)
    ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    table_rows = tuple((name, lang, surface, str(n)) for (name, lang, surface), n in ordered)
    return Table(key, title, ("name", "language", "surface", "answers"), table_rows)


def _rated_down(rows: Sequence[RecordRow]) -> Table:
    down = [r for r in rows if r.rating == "down"]
    table_rows = tuple(
        (
            f"{r.asked_at:%Y-%m-%d %H:%M}",
            r.language,
            r.surface,
            r.question,
            r.answer,
            "; ".join(d["title"] or d["document"] for d in r.documents),
            REASON_WORDS.get(r.feedback_reason or "", ""),
        )
        for r in down
    )
    columns = ("asked (UTC)", "language", "surface", "question", "answer", "sources", "reason")
    return Table("rated-down", "Answers rated down", columns, table_rows)


def percentile(values: Sequence[float], share: float) -> float | None:
    """Nearest-rank percentile (``share`` 0.5 is the median); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def _speed(rows: Sequence[RecordRow]) -> Table:
    """First token and whole answer, p50 and p95 in seconds, per hour of the day the questions were asked."""
    hours: dict[str, list[RecordRow]] = {}
    for r in rows:
        hours.setdefault(f"{r.asked_at:%Y-%m-%d %H}:00", []).append(r)
    table_rows = []
    for hour, group in sorted(hours.items()):
        first = [r.first_token_ms for r in group if r.first_token_ms is not None]
        total = [r.total_ms for r in group if r.total_ms is not None]
        cells = [percentile(first, 0.5), percentile(first, 0.95), percentile(total, 0.5), percentile(total, 0.95)]
        table_rows.append((hour, str(len(group)), *("" if c is None else f"{c / 1000:.2f}" for c in cells)))
    columns = ("hour (UTC)", "answers", "first token p50 s", "first token p95 s", "answer p50 s", "answer p95 s")
    return Table("speed", "Answer speed", columns, tuple(table_rows))


def _routes(rows: Sequence[RecordRow]) -> Table:
    counts = Counter(r.route for r in rows)
    total = sum(counts.values()) or 1
    ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    table_rows = tuple((route, str(n), f"{100 * n / total:.0f}%") for route, n in ordered)
    return Table("routes", "Routes the answers took", ("route", "answers", "share"), table_rows)
