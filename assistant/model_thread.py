"""One long-lived thread for a server's model work: retrieval, the chat model, the answer's checks.

A server answers each request on whichever of its worker threads it lands on (about 80), and each step of a
streamed answer perhaps on another. Model work spread over those threads ran the embedder while the chat model
generated (two thread pools on the same cores, each slowing the other), let two requests share the embedder's
tokenizer at once (not thread-safe), and spread the models' allocations over many malloc arenas. Here the request
threads hand their question to this one thread and read the answer's events from a queue: one answer at a time,
in order of arrival, which is the one generation slot's queue as well.

Not ``concurrent.futures.ThreadPoolExecutor(max_workers=1)``: a future holds one result where an answer streams
its events as they are made, and the executor's worker is joined at interpreter exit, after every job queued before
it, so stopping a server would wait for the answers in line to be generated; this daemon thread does not.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from typing import Any, Generic, TypeVar

T = TypeVar("T")

_ITEM, _ERROR, _END = range(3)


class ModelThread:
    """Runs jobs one after the other on one daemon thread, started by the first job."""

    def __init__(self, name: str = "model") -> None:
        self.name = name
        self._jobs: queue.SimpleQueue[_Job[Any]] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._waiting = 0
        self._running = False

    @property
    def queue_depth(self) -> int:
        """Jobs waiting for the one running now."""
        return self._waiting

    @property
    def busy(self) -> bool:
        return self._running

    @property
    def ident(self) -> int | None:
        return self._thread.ident if self._thread is not None else None

    def stream(self, make: Callable[[], Iterator[T]]) -> Iterator[T]:
        """The items of ``make()``, made on the model thread and read here as they come. Closing the returned
        iterator (from any thread) stops the job: skipped if it has not started, else its iterator is closed after
        the next item."""
        if threading.get_ident() == self.ident:  # already on the model thread: waiting for itself would hang
            return make()
        job: _Job[T] = _Job(make)
        with self._lock:
            self._waiting += 1
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
                self._thread.start()
        self._jobs.put(job)
        return job

    def call(self, fn: Callable[[], T]) -> T:
        """``fn()`` on the model thread, after the jobs before it; its exception is raised here."""
        results = self.stream(lambda: iter((fn(),)))
        try:
            return next(results)
        finally:
            close = getattr(results, "close", None)
            if close is not None:
                close()

    def _run(self) -> None:
        while True:
            job = self._jobs.get()
            with self._lock:
                self._waiting -= 1
                self._running = True
            try:
                job.run()
            finally:
                with self._lock:
                    self._running = False


class _Job(Generic[T]):
    """One job: ``run`` on the model thread puts its items into a queue, the caller iterates over them."""

    def __init__(self, make: Callable[[], Iterator[T]]) -> None:
        self._make = make
        self._out: queue.SimpleQueue[tuple[int, Any]] = queue.SimpleQueue()
        self._stopped = threading.Event()
        self._finished = False

    def run(self) -> None:
        if self._stopped.is_set():
            return  # its caller went away while it waited
        try:
            items = self._make()
            try:
                for item in items:
                    self._out.put((_ITEM, item))
                    if self._stopped.is_set():
                        break
            finally:
                close = getattr(items, "close", None)
                if close is not None:
                    close()  # a generator's cleanup (the generation slot) runs here, on the model thread
        except BaseException as exc:  # whatever it is, the caller hears of it instead of waiting forever
            self._out.put((_ERROR, exc))
            return
        self._out.put((_END, None))

    def __iter__(self) -> _Job[T]:
        return self

    def __next__(self) -> T:
        if self._finished:
            raise StopIteration
        kind, value = self._out.get()
        if kind == _ITEM:
            return value  # type: ignore[no-any-return]
        self._finished = True
        if kind == _ERROR:
            raise value
        raise StopIteration

    def close(self) -> None:
        """Safe from any thread, also while another one waits in ``__next__`` (it then gets no more items)."""
        self._stopped.set()
        self._finished = True
        self._out.put((_END, None))  # wakes a reader that waits for an item the job will no longer make
