"""The record's tables and their versions: the product creates and migrates its own schema.

Each migration is a function that brings the schema from one version to the next; the version reached is kept
in ``record_schema``. A new column or table is a new function appended to ``MIGRATIONS``, never an edit of an
old one, so that a database written by any earlier release can be brought up to date at start-up.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    select,
    text,
)
from sqlalchemy.engine import Connection, Engine

from ..errors import ConfigError

metadata = MetaData()

schema_version = Table("record_schema", metadata, Column("version", Integer, nullable=False))

questions = Table(
    "questions",
    metadata,
    Column("answer_id", String(32), primary_key=True),  # random; the API hands it out for feedback
    Column("conversation_id", String(32), nullable=False, index=True),  # random; never shown to anyone
    Column("turn", Integer, nullable=False),  # earlier questions in the conversation
    Column("asked_at", DateTime, nullable=False, index=True),  # UTC, rounded down to the quarter hour
    Column("surface", String(16), nullable=False),
    Column("language", String(8), nullable=False),
    Column("question", Text, nullable=False),  # scrubbed
    Column("answer", Text, nullable=False),  # scrubbed as well: a model may repeat the visitor's name
    Column("route", String(16), nullable=False),
    Column("refused", Boolean, nullable=False),
    Column("reason", Text, nullable=False),
    Column("retrieved", Boolean, nullable=False),  # False: declined before any search (privacy, out of scope)
    Column("documents", Text, nullable=False),  # JSON list of {"document", "title"} of the cited sources
    Column("organisations", Text, nullable=False),  # JSON list of the cited sources' organisations
    Column("retrieve_ms", Float),
    Column("first_token_ms", Float),
    Column("total_ms", Float),
    Column("rating", String(8)),  # "up" | "down" | NULL
    Column("feedback_reason", String(32)),
)


def _v1(conn: Connection) -> None:
    """The first schema: the questions table and its indexes."""
    questions.create(conn)


MIGRATIONS: tuple[Callable[[Connection], None], ...] = (_v1,)
SCHEMA_VERSION = len(MIGRATIONS)


class NewerSchema(ConfigError):
    """The database was written by a newer release than this one."""


def migrate(engine: Engine) -> int:
    """Create or bring the schema up to ``SCHEMA_VERSION`` in one transaction; returns the version found before.

    On PostgreSQL an advisory lock keeps two servers that start together from migrating at the same time; on
    SQLite the write transaction does.
    """
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(220022)"))
        elif conn.dialect.name == "sqlite":
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        schema_version.create(conn, checkfirst=True)
        found = conn.execute(select(schema_version.c.version)).scalar()
        before = int(found or 0)
        if before > SCHEMA_VERSION:
            raise NewerSchema(
                f"The record database has schema version {before}; this release knows up to {SCHEMA_VERSION}. "
                "Update the assistant, or point database_url at another database."
            )
        for step in MIGRATIONS[before:]:
            step(conn)
        if found is None:
            conn.execute(schema_version.insert().values(version=SCHEMA_VERSION))
        elif before < SCHEMA_VERSION:
            conn.execute(schema_version.update().values(version=SCHEMA_VERSION))
    return before
