"""Recording answered questions without ever holding up an answer.

The database is opened on first use, not at start-up, and every use is guarded: when it fails (a full disk, a
dead server) the record is dropped and counted, the log says so once, and for ``RETRY_S`` seconds nothing more is
tried, so that a dead server's connect timeout is not paid by every visitor. Log lines never hold what a visitor
typed: only the kind of failure.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from sqlalchemy.exc import DBAPIError, OperationalError

from ..types import Answer
from .scrub import Scrubber
from .store import RecordRow, RecordStore

logger = logging.getLogger("assistant.record")
T = TypeVar("T")
SURFACES = ("kiosk", "widget", "api")
RETRY_S = 30.0
PURGE_EVERY = timedelta(days=1)


def new_id() -> str:
    """A random id (answers, conversations): 128 bits, nothing derived from the visitor or the time."""
    return uuid.uuid4().hex


def utc_now() -> datetime:
    return datetime.now(UTC)


def quarter_hour(moment: datetime) -> datetime:
    """``moment`` in UTC without zone, rounded down to the quarter hour: when, but not exactly when."""
    utc = moment.astimezone(UTC).replace(tzinfo=None)
    return utc.replace(minute=utc.minute - utc.minute % 15, second=0, microsecond=0)


def _failure(exc: Exception) -> str:
    """The kind of failure, for the log: a driver's own message only for operational errors (disk full, server
    gone), which carry no row values; others could quote the question, so only their type is named."""
    inner = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    if isinstance(exc, OperationalError | OSError):
        first = str(inner).strip().splitlines()[0][:200] if str(inner).strip() else ""
        return f"{type(inner).__name__}: {first}" if first else type(inner).__name__
    return type(inner).__name__


def _added(store: RecordStore, row: RecordRow) -> bool:
    store.add(row)
    return True


class Recorder:
    """Scrubs and writes answers, stores ratings and forgets what is older than the retention."""

    def __init__(
        self,
        open_store: Callable[[], RecordStore],
        scrub: Scrubber,
        retention_days: int,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._open_store, self.scrub, self.retention = open_store, scrub, timedelta(days=retention_days)
        self.clock = clock
        self.dropped = 0  # records lost to a failing database since start
        self._store: RecordStore | None = None
        self._lock = threading.Lock()
        self._retry_at = 0.0
        self._failing = False
        self._purged_at: datetime | None = None

    def record(self, answer: Answer, surface: str, conversation: str, turn: int, answer_id: str) -> bool:
        """Write one answer; False (and counted) when the database did not take it."""
        row = self.row(answer, surface, conversation, turn, answer_id)
        written = self._use(lambda store: _added(store, row))
        if not written:
            with self._lock:
                self.dropped += 1
        self.purge_if_due()
        return bool(written)

    def row(self, answer: Answer, surface: str, conversation: str, turn: int, answer_id: str) -> RecordRow:
        """The record of an answer: scrubbed texts, the cited documents and organisations, the timings."""
        documents = {(s.document, s.title): None for s in answer.sources}
        organisations = {s.organisation: None for s in answer.sources if s.organisation}
        timings = answer.timings
        return RecordRow(
            answer_id=answer_id,
            conversation_id=conversation,
            turn=turn,
            asked_at=quarter_hour(self.clock()),
            surface=surface,
            language=answer.language,
            question=self.scrub(answer.question),
            answer=self.scrub(answer.answer),
            route=answer.route,
            refused=answer.refused,
            reason=answer.reason,
            retrieved=timings.get("retrieve_ms") is not None,
            documents=tuple({"document": d, "title": t} for d, t in documents),
            organisations=tuple(organisations),
            retrieve_ms=timings.get("retrieve_ms"),
            first_token_ms=timings.get("first_token_ms"),
            total_ms=timings.get("total_ms"),
        )

    def rate(self, answer_id: str, rating: str, reason: str | None) -> bool | None:
        """Store a rating: True; False when the answer is not recorded; None when the database is unavailable."""
        return self._use(lambda store: store.rate(answer_id, rating, reason))

    def conversation_of(self, answer_id: str) -> tuple[str, int] | None:
        """(conversation id, turn) of a recorded answer; None when unknown or the database is unavailable."""
        return self._use(lambda store: store.conversation_of(answer_id))

    def purge_if_due(self) -> int | None:
        """Delete what is older than the retention, at the first use and then once a day."""
        now = self.clock()
        with self._lock:
            if self._purged_at is not None and now - self._purged_at < PURGE_EVERY:
                return None
            self._purged_at = now
        return self._use(lambda store: store.delete_before(quarter_hour(now - self.retention)))

    def start_daily_purge(self, interval_s: float = 3600.0) -> threading.Thread:
        """A daemon thread that purges once a day even when nobody asks anything (for `serve`)."""

        def loop() -> None:
            while True:
                self.purge_if_due()
                time.sleep(interval_s)

        # A daemon thread, not an executor: an executor's worker is joined at exit, and this loop never ends.
        thread = threading.Thread(target=loop, name="record-purge", daemon=True)
        thread.start()
        return thread

    def store(self) -> RecordStore:
        """The open store (opening it): for the report, which wants the error when it cannot read."""
        with self._lock:
            if self._store is None:
                self._store = self._open_store()
            return self._store

    def _use(self, action: Callable[[RecordStore], T]) -> T | None:
        if time.monotonic() < self._retry_at:
            return None
        try:
            result = action(self.store())
        except Exception as exc:  # whatever the database does, the answer goes on
            self._failed(exc)
            return None
        if self._failing:
            self._failing = False
            logger.warning("the record is written again (%d records were dropped meanwhile)", self.dropped)
        return result

    def _failed(self, exc: Exception) -> None:
        self._retry_at = time.monotonic() + RETRY_S
        if not self._failing:
            self._failing = True
            logger.warning(
                "the record cannot be written (%s): answers go on, records are dropped and counted", _failure(exc)
            )
