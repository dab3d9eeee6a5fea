"""The server's log, safe from its visitors: `assistant serve` writes every record through ``GuardedHandler``.

Every request is unauthenticated, so nothing a request brings may shape the log. A record is one line: line breaks
and control characters in its message are escaped (a ``%0A`` in a path cannot forge a line). Tracebacks that a
request provokes in the libraries (uvicorn's "Exception in ASGI application", gradio's, asyncio's) are not
written at all, nor are uvicorn's per-request complaints: anyone could flood the disk with them. They are counted,
and at most once a minute one line says how many. The assistant's own records keep their message but lose the
traceback (its exception's type and message, escaped, stand in for it).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from .printable import printable

OWN = "assistant"
WINDOW_S = 60.0
MAX_MESSAGE = 2000
# uvicorn's complaints about one request or connection (without a traceback, but one per request).
_PER_REQUEST = (
    "Exception in ASGI application",
    "Invalid HTTP request received",
    "ASGI callable returned without",
    "Unsupported upgrade request",
    "Request body exceeded",
)


class LogGuard:
    """Decides what of a record is written, counts what is not, and says so at most once per ``window_s``."""

    def __init__(self, window_s: float = WINDOW_S, clock: Callable[[], float] = time.monotonic) -> None:
        self.window_s = window_s
        self.clock = clock
        self._suppressed = 0
        self._since = clock()
        self._lock = threading.Lock()

    def admit(self, record: logging.LogRecord) -> logging.LogRecord | None:
        """The record as written (one escaped line), or None when it is suppressed and counted."""
        own = record.name == OWN or record.name.startswith(OWN + ".")
        if not own and (record.exc_info or record.getMessage().startswith(_PER_REQUEST)):
            with self._lock:
                self._suppressed += 1
            return None
        message = record.getMessage()
        if record.exc_info and record.exc_info[1] is not None:
            exc = record.exc_info[1]
            message = f"{message} ({type(exc).__name__}: {exc})"
        clean = logging.makeLogRecord(record.__dict__)
        clean.msg, clean.args = printable(message, MAX_MESSAGE), ()
        clean.exc_info = clean.exc_text = clean.stack_info = None
        return clean

    def summary(self) -> logging.LogRecord | None:
        """A record that says how many were suppressed, once ``window_s`` has passed since the last one."""
        now = self.clock()
        with self._lock:
            if not self._suppressed or now - self._since < self.window_s:
                return None
            count, self._suppressed, self._since = self._suppressed, 0, now
        return logging.makeLogRecord(
            {
                "name": "assistant.log",
                "levelno": logging.WARNING,
                "levelname": "WARNING",
                "msg": f"{count} log records from unauthenticated requests suppressed in the last minute",
            }
        )


class GuardedHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """A stream handler that writes what ``LogGuard`` admits, and its summary when one is due."""

    def __init__(self, stream: object = None, guard: LogGuard | None = None) -> None:
        super().__init__(stream)  # type: ignore[arg-type]
        self.guard = guard or LogGuard()

    def handle(self, record: logging.LogRecord) -> bool:
        summary = self.guard.summary()
        if summary is not None:
            super().handle(summary)
        admitted = self.guard.admit(record)
        return bool(admitted is not None and super().handle(admitted))
