"""The anonymous record of what visitors asked (issue #22): scrubbed questions, ratings, in SQLite or PostgreSQL.

``make_recorder`` is called by the composition root; nothing else opens the database.
"""

from __future__ import annotations

from ..settings import Settings
from ..store import VectorStore
from .recorder import SURFACES, Recorder, new_id
from .scrub import KnownNames, Scrubber
from .store import FEEDBACK_REASONS, RATINGS, RecordRow, RecordStore, database_url

__all__ = [
    "FEEDBACK_REASONS",
    "RATINGS",
    "SURFACES",
    "RecordRow",
    "RecordStore",
    "Recorder",
    "database_url",
    "make_recorder",
    "new_id",
]


def make_recorder(settings: Settings, store: VectorStore) -> Recorder | None:
    """The recorder the settings ask for (None when ``record_questions`` is off); the database opens on first use."""
    if not settings.record_questions:
        return None
    url = database_url(settings)
    return Recorder(lambda: RecordStore.open(url), Scrubber(KnownNames(store)), settings.record_retention_days)
