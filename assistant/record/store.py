"""The record's database: SQLite in the data folder by default, PostgreSQL (or any SQLAlchemy URL) by setting.

Only SQLAlchemy Core: a handful of statements, written once for both databases. Rows leave as ``RecordRow``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, delete, event, select, update
from sqlalchemy.engine import Engine

from ..settings import Settings
from .schema import migrate, questions

RATINGS = ("up", "down")
FEEDBACK_REASONS = ("wrong", "incomplete", "not_my_language", "did_not_answer")
SQLITE_FILE = "record.sqlite3"
CONNECT_TIMEOUT_S = 3  # a dead database server costs an answer at most this long, then the breaker opens


@dataclass(frozen=True)
class RecordRow:
    """One recorded answer, as the report reads it."""

    answer_id: str
    conversation_id: str
    turn: int
    asked_at: datetime
    surface: str
    language: str
    question: str
    answer: str
    route: str
    refused: bool
    reason: str
    retrieved: bool
    documents: tuple[dict[str, str], ...]
    organisations: tuple[str, ...]
    retrieve_ms: float | None
    first_token_ms: float | None
    total_ms: float | None
    rating: str | None = None
    feedback_reason: str | None = None

    def values(self) -> dict[str, Any]:
        """The row as the table's columns (lists as JSON text)."""
        data = {name: getattr(self, name) for name in self.__dataclass_fields__}
        data["documents"] = json.dumps(list(self.documents), ensure_ascii=False)
        data["organisations"] = json.dumps(list(self.organisations), ensure_ascii=False)
        return data

    @classmethod
    def from_values(cls, data: Any) -> RecordRow:
        values = dict(data)
        values["documents"] = tuple(json.loads(values["documents"]))
        values["organisations"] = tuple(json.loads(values["organisations"]))
        return cls(**values)


def database_url(settings: Settings) -> str:
    """``database_url``, or the SQLite file next to the index folder (data/record.sqlite3 by default)."""
    if settings.database_url:
        return settings.database_url
    return f"sqlite:///{(Path(settings.index_dir).parent / SQLITE_FILE).resolve()}"


def make_engine(url: str) -> Engine:
    """An engine whose connections fail fast. SQLite: WAL, so several server processes on one machine can
    write while the report reads, and a busy timeout instead of "database is locked" errors."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[1] if "///" in url else ""
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 5})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    args = {"connect_timeout": CONNECT_TIMEOUT_S} if url.startswith("postgresql") else {}
    return create_engine(url, connect_args=args, pool_pre_ping=True)


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


class RecordStore:
    """The statements the product needs: add, rate, forget the expired, read a period, find a conversation."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @classmethod
    def open(cls, url: str) -> RecordStore:
        """Connect and create or migrate the schema (raises when the database cannot be reached)."""
        store = cls(make_engine(url))
        migrate(store.engine)
        return store

    def add(self, row: RecordRow) -> None:
        with self.engine.begin() as conn:
            conn.execute(questions.insert().values(**row.values()))

    def rate(self, answer_id: str, rating: str, reason: str | None) -> bool:
        """Set (or change) an answer's rating; False when no such answer is recorded."""
        statement = (
            update(questions).where(questions.c.answer_id == answer_id).values(rating=rating, feedback_reason=reason)
        )
        with self.engine.begin() as conn:
            return conn.execute(statement).rowcount > 0

    def delete_before(self, cutoff: datetime) -> int:
        with self.engine.begin() as conn:
            return conn.execute(delete(questions).where(questions.c.asked_at < cutoff)).rowcount

    def rows(self, since: datetime, until: datetime | None = None) -> list[RecordRow]:
        """Answers asked at or after ``since`` and before ``until``, oldest first."""
        statement = select(questions).where(questions.c.asked_at >= since)
        if until is not None:
            statement = statement.where(questions.c.asked_at < until)
        statement = statement.order_by(questions.c.asked_at, questions.c.conversation_id, questions.c.turn)
        with self.engine.connect() as conn:
            return [RecordRow.from_values(r._mapping) for r in conn.execute(statement)]

    def conversation_of(self, answer_id: str) -> tuple[str, int] | None:
        """(conversation id, turn) of a recorded answer, for the API's follow-ups."""
        statement = select(questions.c.conversation_id, questions.c.turn).where(questions.c.answer_id == answer_id)
        with self.engine.connect() as conn:
            found = conn.execute(statement).first()
        return None if found is None else (str(found[0]), int(found[1]))

    def add_many(self, rows: Sequence[RecordRow]) -> None:
        """For tests and imports: several rows in one transaction."""
        with self.engine.begin() as conn:
            conn.execute(questions.insert(), [r.values() for r in rows])

    def close(self) -> None:
        self.engine.dispose()
