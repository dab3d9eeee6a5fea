"""The report's plots, drawn with matplotlib into PNG bytes (inline in the HTML: no file beside it, and no text of a
stranger's question can reach the page as markup through an image)."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

from .summary import Summary
from .tables import Table

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

TOP = 12


def _figure(height: float) -> tuple[Figure, Axes]:
    import matplotlib

    matplotlib.use("Agg")  # no display on a fair's server
    import matplotlib.pyplot as plt

    return plt.subplots(figsize=(8, height), dpi=100)


def _png(fig: Figure) -> bytes:
    import matplotlib.pyplot as plt

    out = io.BytesIO()
    fig.tight_layout()
    fig.savefig(out, format="png")
    plt.close(fig)
    return out.getvalue()


def bars(table: Table, label: int, value: int, title: str) -> bytes | None:
    """Horizontal bars: ``value`` column summed per ``label`` column, the largest ``TOP`` on top."""
    totals: dict[str, float] = {}
    for row in table.rows:
        totals[row[label]] = totals.get(row[label], 0.0) + float(row[value])
    if not totals:
        return None
    items = sorted(totals.items(), key=lambda item: -item[1])[:TOP][::-1]
    fig, ax = _figure(0.9 + 0.35 * len(items))
    from matplotlib.ticker import MaxNLocator

    ax.barh([_short(k) for k, _ in items], [v for _, v in items], color="#2b6cb0")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # counts of questions: no "asked 0.25 times"
    ax.set_title(title)
    return _png(fig)


def speed(table: Table) -> bytes | None:
    """p50 and p95 of the first token and the whole answer, per hour."""
    if not table.rows:
        return None
    hours = [row[0][5:] for row in table.rows]
    fig, ax = _figure(3.6)
    styles = (("first token p50", 2, "-"), ("first token p95", 3, ":"), ("answer p50", 4, "-"), ("answer p95", 5, ":"))
    for name, column, line in styles:
        values = [float(row[column]) if row[column] else float("nan") for row in table.rows]
        ax.plot(hours, values, line, marker="o", label=name)
    ax.set_ylabel("seconds")
    ax.legend()
    ax.tick_params(axis="x", labelrotation=45)
    return _png(fig)


def plots(summary: Summary) -> dict[str, bytes]:
    """The plots that have data, by the key of the table they show."""
    drawn = {
        "organisations": bars(summary.organisations, 0, 3, "Answers citing the organisation"),
        "topics": bars(summary.topics, 0, 3, "Answers citing the document"),
        "routes": bars(summary.routes, 0, 1, "Answers per route"),
        "speed": speed(summary.speed),
        "content-gaps": bars(summary.gaps, 0, 1, "Unanswered questions per group"),
    }
    return {key: png for key, png in drawn.items() if png is not None}


def _short(text: str, limit: int = 40) -> str:
    """A label: shortened, and "$" escaped (matplotlib would read text between two as a formula)."""
    text = text if len(text) <= limit else text[: limit - 1] + "…"
    return text.replace("$", r"\$")
