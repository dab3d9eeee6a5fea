"""`assistant report`: the record of a period, read, grouped and summarised into the self-contained HTML page
and the content-gap stubs. The organiser page (/organiser/, ``web.py``) renders the same ``Report``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from ..embedders import Embedder
from ..event import EventProfile
from ..record import RecordRow, RecordStore
from .gaps import GapGroup, group_gaps
from .page import SELF_CONTAINED, Links, Stub, render_page
from .plots import plots
from .stubs import stub, stub_name
from .summary import Summary, summarise


@dataclass(frozen=True)
class Report:
    since: date
    until: date  # exclusive
    rows: list[RecordRow]
    groups: list[GapGroup]
    summary: Summary
    stubs: list[Stub]

    def html(self, event: EventProfile, links: Links = SELF_CONTAINED, controls: str = "") -> str:
        """The page: self-contained by default; the organiser page passes its download links and period form."""
        fair = event.name.get("en") or event.name.get("de") or ""
        heading = f"What visitors asked — {fair}" if fair else "What visitors asked"
        last = self.until - timedelta(days=1)
        period = f"{self.since.isoformat()} to {last.isoformat()} (UTC), {len(self.rows)} answers."
        drawn = plots(self.summary)
        return render_page(self.summary, self.groups, self.stubs, drawn, heading, period, links, controls)


def build_report(
    store: RecordStore, embedder: Embedder, event: EventProfile, since: date, until: date | None = None
) -> Report:
    """Read ``since`` up to (not including) ``until`` (default: tomorrow), group the gaps, summarise."""
    end = until or (datetime.now(UTC).date() + timedelta(days=1))
    rows = store.rows(datetime.combine(since, datetime.min.time()), datetime.combine(end, datetime.min.time()))
    groups = group_gaps(rows, embedder)
    stubs = [Stub(stub_name(i, g, since), stub(i, g, event, since)) for i, g in enumerate(groups, start=1)]
    return Report(since, end, rows, groups, summarise(rows, groups), stubs)


def write_report(report: Report, event: EventProfile, out: Path, stubs_dir: Path | None = None) -> list[Path]:
    """The HTML file, and the stubs into ``stubs_dir`` (default: a folder named after the file); the paths."""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(report.html(event), encoding="utf-8")
    written = [out]
    if report.stubs:
        folder = stubs_dir or out.with_name(out.stem + "-stubs")
        folder.mkdir(parents=True, exist_ok=True)
        for s in report.stubs:
            (folder / s.name).write_text(s.text, encoding="utf-8")
            written.append(folder / s.name)
    return written
