"""A table as the report and its CSV downloads share it: a title, column names, rows of plain text cells."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass


@dataclass(frozen=True)
class Table:
    key: str  # file-name-safe: the CSV's name
    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]

    def csv(self) -> str:
        """The table as CSV. Cells that a spreadsheet would take for a formula (=, +, -, @) get a leading
        apostrophe: the questions are strangers' text."""
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(self.columns)
        writer.writerows([_defused(cell) for cell in row] for row in self.rows)
        return out.getvalue()


def _defused(cell: str) -> str:
    return "'" + cell if cell[:1] in ("=", "+", "-", "@", "\t", "\r") else cell
