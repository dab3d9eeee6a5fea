from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from assistant.model_thread import ModelThread


def _wait(condition, timeout_s: float = 10) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline
        time.sleep(0.002)


def test_jobs_from_many_threads_run_on_one_other_thread_and_stream_in_order() -> None:
    model = ModelThread()
    seen: list[tuple[int, int]] = []  # (job, thread ident) per item made
    results: dict[int, list[int]] = {}

    def job(n: int) -> Iterator[int]:
        for i in range(3):
            seen.append((n, threading.get_ident()))
            yield n * 10 + i

    def caller(n: int) -> None:
        results[n] = list(model.stream(lambda: job(n)))

    callers = [threading.Thread(target=caller, args=(n,)) for n in range(8)]
    for t in callers:
        t.start()
    for t in callers:
        t.join()
    assert results == {n: [n * 10, n * 10 + 1, n * 10 + 2] for n in range(8)}
    assert {ident for _, ident in seen} == {model.ident}
    assert model.ident not in {t.ident for t in callers} | {threading.get_ident()}
    # one job at a time: each job's three items were made together
    assert [n for n, _ in seen] == [n for n, _ in seen[::3] for _ in range(3)]


def test_an_error_on_the_model_thread_is_raised_to_the_caller_and_the_thread_goes_on() -> None:
    model = ModelThread()

    def failing() -> Iterator[str]:
        yield "first"
        raise ValueError("the model failed")

    results = model.stream(failing)
    assert next(results) == "first"
    with pytest.raises(ValueError, match="the model failed"):
        next(results)
    with pytest.raises(KeyError):
        model.call(lambda: {}["missing"])
    assert model.call(lambda: threading.get_ident()) == model.ident


def test_closing_a_stream_stops_its_job_and_a_closed_waiting_job_never_runs() -> None:
    model = ModelThread()
    gate, cleaned_up, made = threading.Semaphore(0), threading.Event(), []

    def endless() -> Iterator[int]:
        try:
            i = 0
            while True:
                gate.acquire()  # one item per release: the test decides how far it gets
                made.append(i)
                yield i
                i += 1
        finally:
            cleaned_up.set()  # e.g. the generation slot given back

    running = model.stream(endless)
    _wait(lambda: model.busy)
    waiting = model.stream(lambda: iter(["never made"]))
    assert (model.busy, model.queue_depth) == (True, 1)
    waiting.close()  # the visitor left while waiting
    gate.release()
    assert next(running) == 0
    running.close()  # the visitor left during the answer
    gate.release()
    assert cleaned_up.wait(10)
    _wait(lambda: not model.busy and model.queue_depth == 0)
    assert made in ([0], [0, 1])  # stopped at the next item, not left running
    assert list(waiting) == []
    assert model.call(lambda: "still serving") == "still serving"


def test_a_job_that_asks_the_model_thread_again_runs_inline_instead_of_hanging() -> None:
    model = ModelThread()
    assert model.call(lambda: model.call(lambda: 42)) == 42
