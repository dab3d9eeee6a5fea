"""The report as one HTML page: inline CSS, plots as inline PNG, no script. Every text from the record is escaped:
the questions are strangers' text.

The same page serves `assistant report` (self-contained: CSV and Markdown stubs as data: links) and the organiser
page at /organiser/ (links to its download routes): only the ``Links`` differ.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from html import escape

from .gaps import GapGroup
from .summary import Summary
from .tables import Table

SHOWN_ROWS = 50  # a table on the page; its CSV has every row
STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:70rem;margin:2rem auto;padding:0 1rem;color:#1a202c}"
    "table{border-collapse:collapse;margin:.5rem 0 1rem}td,th{border:1px solid #cbd5e0;padding:.25rem .5rem;"
    "text-align:left;vertical-align:top}th{background:#edf2f7}img{max-width:100%}.gap{margin-bottom:1rem}"
    "a{color:#2b6cb0}.note{color:#4a5568}"
    ".controls{display:flex;flex-wrap:wrap;gap:.5rem;align-items:center;margin:.75rem 0}"
    ".bar{display:flex;flex-wrap:wrap;gap:0 2rem;align-items:center}"
    "input,button{font:inherit;padding:.4rem .7rem;border-radius:4px}input{border:1px solid #4a5568}"
    "button{background:#2b6cb0;color:#fff;border:1px solid #2b6cb0;cursor:pointer}"
    ".error{color:#9b1c1c;font-weight:600}:focus-visible{outline:3px solid #c45500;outline-offset:2px}"
)


@dataclass(frozen=True)
class Stub:
    """A content-gap group's Markdown stub, as a file name and its text."""

    name: str
    text: str


def data_link(label: str, name: str, content: str, media: str) -> str:
    """A download link that carries its file (base64 in a data: URL), so the page needs nothing beside it."""
    payload = base64.b64encode(content.encode("utf-8")).decode("ascii")
    return f'<a download="{escape(name)}" href="data:{media};charset=utf-8;base64,{payload}">{escape(label)}</a>'


def table_data_link(table: Table) -> str:
    """The table's CSV inside the link: the report file needs nothing beside it."""
    return data_link(f"{table.title} (CSV)", f"{table.key}.csv", table.csv(), "text/csv")


def stub_data_link(stub: Stub) -> str:
    return data_link(f"Markdown stub {stub.name}", stub.name, stub.text, "text/markdown")


@dataclass(frozen=True)
class Links:
    """How the page links a table's CSV and a group's stub: carried in the link (the file) or served (the web)."""

    table: Callable[[Table], str] = table_data_link
    stub: Callable[[Stub], str] = stub_data_link


SELF_CONTAINED = Links()


def table_html(table: Table, links: Links = SELF_CONTAINED) -> str:
    head = "".join(f"<th scope=col>{escape(c)}</th>" for c in table.columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{escape(cell)}</td>" for cell in row) + "</tr>" for row in table.rows[:SHOWN_ROWS]
    )
    more = (
        f'<p class="note">{len(table.rows) - SHOWN_ROWS} more rows in the CSV.</p>'
        if len(table.rows) > SHOWN_ROWS
        else ""
    )
    if not table.rows:
        return '<p class="note">Nothing in this period.</p>'
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{more}<p>{links.table(table)}</p>"


def image_html(png: bytes | None, alt: str) -> str:
    if png is None:
        return ""
    return f'<img alt="{escape(alt)}" src="data:image/png;base64,{base64.b64encode(png).decode("ascii")}">'


def gaps_html(groups: Sequence[GapGroup], stubs: Sequence[Stub], links: Links = SELF_CONTAINED) -> str:
    """Each group: how often, its example questions, and its Markdown stub to download."""
    parts = []
    for i, (group, stub) in enumerate(zip(groups, stubs, strict=True), start=1):
        examples = "".join(f"<li>{escape(q)}</li>" for q in group.examples())
        link = links.stub(stub)
        parts.append(
            f'<div class="gap"><h3>Group {i}: asked {_times(group.size)} ({escape(group.language())})</h3>'
            f"<ul>{examples}</ul><p>{link}</p></div>"
        )
    return "".join(parts) or '<p class="note">Every question found an answer in the materials.</p>'


def _times(n: int) -> str:
    return "once" if n == 1 else f"{n} times"


def section(title: str, table: Table, png: bytes | None, intro: str = "", links: Links = SELF_CONTAINED) -> str:
    note = f'<p class="note">{escape(intro)}</p>' if intro else ""
    return f"<section><h2>{escape(title)}</h2>{note}{image_html(png, title)}{table_html(table, links)}</section>"


def _sections(s: Summary) -> list[tuple[str, Table, str]]:
    """The sections after the content gaps: title, table (its key names its plot, if any), note."""
    return [
        ("Most asked organisations", s.organisations, "Per language and surface."),
        ("Most asked topics", s.topics, "Documents cited, per language and surface."),
        ("Answers rated down", s.rated_down, ""),
        ("Answer speed", s.speed, "Seconds to the first word and to the whole answer."),
        ("Routes", s.routes, "llm: generated and checked; retried; extractive: quoted."),
    ]


def render_page(
    summary: Summary,
    groups: Sequence[GapGroup],
    stubs: Sequence[Stub],
    plots: Mapping[str, bytes],
    heading: str,
    period: str,
    links: Links = SELF_CONTAINED,
    controls: str = "",
) -> str:
    """The whole report page. ``controls`` is markup of our own (the organiser page's period form), never text
    from the record."""
    s = summary
    body = [
        f"<h1>{escape(heading)}</h1><p>{escape(period)}</p>{controls}",
        section("Overview", s.overview, None, links=links),
        "<section><h2>Questions the materials could not answer</h2>"
        '<p class="note">Grouped by meaning, largest group first. Complete a group\'s Markdown stub and put it into '
        "knowledge/: the next <code>assistant ingest</code> indexes it.</p>"
        f"{image_html(plots.get('content-gaps'), 'Unanswered questions per group')}"
        f"{gaps_html(groups, stubs, links)}{table_html(s.gaps, links)}</section>",
        *(section(title, table, plots.get(table.key), intro, links) for title, table, intro in _sections(s)),
    ]
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{escape(heading)}</title>'
        f"<style>{STYLE}</style></head><body><main>{''.join(body)}</main></body></html>"
    )
