"""The split deployment of docs/deploy.md, on loopback: two `assistant serve` processes sharing one `chroma run`
server, one OpenAI-compatible chat server (the echoing stand-in) and one record database; ingestion run once, as
a separate process, while both replicas keep answering — and both find the new document without a restart."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import ROOT, free_port, write_corpus
from tests.llm_stand_in import StandIn, running_stand_in

pytestmark = pytest.mark.slow

READY_TIMEOUT_S = 120  # two processes importing gradio and torch on a busy 2-core machine
SHUTTLE = """---
id: shuttle-bus
title: "Shuttle bus"
name: "Shuttle bus"
kind: topic
language: en
---
# Shuttle bus

## Timetable
The shuttle bus to the exhibition grounds leaves from the main station every 15 minutes.
"""
SHUTTLE_QUESTION = "How often does the shuttle bus leave from the main station?"
QUESTION = "When was IMTS first held?"


@dataclass
class Split:
    urls: list[str]
    env: dict[str, str]
    work: Path  # where the processes run
    knowledge: Path
    llm: StandIn
    logs: list[Path] = field(default_factory=list)

    def log_tails(self) -> str:
        return "\n".join(f"--- {log.name}\n{log.read_text(errors='replace')[-1500:]}" for log in self.logs)


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "assistant.cli", *args]


@contextmanager
def _replica(env: dict[str, str], cwd: Path, port: int, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """One `assistant serve` from this checkout, as a real process; terminated (killed if need be) on exit."""
    with log.open("wb") as out:
        proc = subprocess.Popen(
            _cli("serve", "--host", "127.0.0.1", "--port", str(port)),
            cwd=cwd,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            yield proc
        finally:
            proc.terminate()
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)


def _wait_ready(url: str, proc: subprocess.Popen[bytes], log: Path) -> dict[str, Any]:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"{url} exited with {proc.returncode}:\n{log.read_text(errors='replace')[-3000:]}"
        try:
            response = httpx.get(f"{url}/api/ready", timeout=5)
            if response.status_code == 200:
                return dict(response.json())
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise AssertionError(f"{url} not ready after {READY_TIMEOUT_S} s:\n{log.read_text(errors='replace')[-3000:]}")


@pytest.fixture(scope="module")
def split(chroma_server: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Split]:
    """Index once, then start both replicas; everything started here is stopped here."""
    work = tmp_path_factory.mktemp("split")
    knowledge = write_corpus(work)
    with ExitStack() as stack:
        llm = stack.enter_context(running_stand_in("echo"))
        clean = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
        env = {
            **clean,
            "PYTHONPATH": str(ROOT),  # the replicas import this checkout, like the tests do
            "ASSISTANT_CONFIG": str(work / "none.toml"),
            "ASSISTANT_EMBEDDER": "fake",
            "ASSISTANT_CHROMA_URL": chroma_server,
            "ASSISTANT_COLLECTION": f"split-{uuid.uuid4().hex[:8]}",  # the session's server is shared with others
            "ASSISTANT_KNOWLEDGE_DIR": str(knowledge),
            "ASSISTANT_LLM_BACKEND": "openai",
            "ASSISTANT_LLM_BASE_URL": f"{llm.url}/v1",
            "ASSISTANT_LLM_MODEL": "stand-in",
            "ASSISTANT_DATABASE_URL": f"sqlite:///{work / 'record.sqlite3'}",  # one record for both
            "ASSISTANT_RATE_LIMIT_PER_MINUTE": "0",
        }
        indexed = subprocess.run(_cli("ingest", "--quiet"), cwd=work, env=env, capture_output=True, timeout=120)
        assert indexed.returncode == 0, indexed.stderr.decode(errors="replace")
        split = Split([], env, work, knowledge, llm)
        procs = []
        for name in ("a", "b"):
            port, log = free_port(), work / f"serve-{name}.log"
            procs.append(stack.enter_context(_replica(env, work, port, log)))
            split.urls.append(f"http://127.0.0.1:{port}")
            split.logs.append(log)
        for url, proc, log in zip(split.urls, procs, split.logs, strict=True):
            _wait_ready(url, proc, log)
        yield split


def _ask(url: str, question: str) -> dict[str, Any]:
    response = httpx.post(f"{url}/api/chat", json={"question": question, "history": []}, timeout=30)
    assert response.status_code == 200, response.text
    return dict(response.json())


def _titles(answer: dict[str, Any]) -> list[str]:
    return [s["title"] for s in answer["sources"]]


def test_both_replicas_answer_alike_from_the_shared_index_and_share_one_record(split: Split) -> None:
    a, b = (_ask(url, QUESTION) for url in split.urls)
    assert a["route"] == "llm" and "1927" in a["answer"], a
    assert (a["answer"], a["sources"]) == (b["answer"], b["sources"])
    assert _titles(a) == ["IMTS 2024"]
    # The API keeps no state between requests: an answer of one replica is rated through the other.
    rated = httpx.post(f"{split.urls[1]}/api/feedback", json={"answer_id": a["answer_id"], "rating": "up"}, timeout=10)
    assert rated.status_code == 200, rated.text
    # The echoing stand-in saw every prompt: both replicas went to the one chat server.
    assert len(split.llm.requests) >= 2


def test_ingestion_once_while_both_serve_and_both_see_the_new_generation(split: Split) -> None:
    before = [httpx.get(f"{url}/api/ready", timeout=10).json()["passages"] for url in split.urls]
    assert before[0] == before[1]
    for url in split.urls:
        assert "Shuttle bus" not in _titles(_ask(url, SHUTTLE_QUESTION))

    stop, failures, answered = threading.Event(), [], [0, 0]

    def keep_asking(i: int) -> None:
        with httpx.Client(timeout=30) as client:
            for _ in range(2000):  # bounded; stopped when the ingestion has finished
                if stop.is_set():
                    return
                try:
                    response = client.post(f"{split.urls[i]}/api/chat", json={"question": QUESTION, "history": []})
                    if response.status_code != 200 or not response.json()["sources"]:
                        failures.append(f"replica {i}: {response.status_code} {response.text[:300]}")
                    else:
                        answered[i] += 1
                except httpx.HTTPError as exc:
                    failures.append(f"replica {i}: {type(exc).__name__}: {exc}")

    askers = [threading.Thread(target=keep_asking, args=(i,), daemon=True) for i in range(2)]
    for thread in askers:
        thread.start()
    try:
        (split.knowledge / "shuttle-bus.en.md").write_text(SHUTTLE, encoding="utf-8")
        ingest = subprocess.run(
            _cli("ingest", "--quiet"), cwd=split.work, env=split.env, capture_output=True, timeout=120
        )
    finally:
        stop.set()
        for thread in askers:
            thread.join(timeout=40)
    assert ingest.returncode == 0, ingest.stderr.decode(errors="replace")
    assert not failures, f"{failures[:5]}\n{split.log_tails()}"
    assert all(n > 0 for n in answered), answered  # both answered during the ingestion

    # No restart: each replica's next search reads the new generation from the Chroma server.
    after = [httpx.get(f"{url}/api/ready", timeout=10).json()["passages"] for url in split.urls]
    assert after[0] == after[1] > before[0]
    for url in split.urls:
        answer = _ask(url, SHUTTLE_QUESTION)
        assert _titles(answer)[0] == "Shuttle bus" and "15 minutes" in answer["answer"], answer


def test_the_load_benchmark_goes_round_robin_to_both_replicas(split: Split) -> None:
    import asyncio

    from assistant.evaluation.dataset import load_dataset
    from evals.bench_load import assign_questions, summarize
    from evals.common import DATASET
    from evals.load_client import drive

    plan = assign_questions(load_dataset(DATASET), clients=2, per_client=2)
    figures = summarize(asyncio.run(drive(split.urls, plan, 60, None, "split", stall_s=60)))
    assert figures["errors"] == 0 and figures["completed"] == 4
    assert figures["servers"] == {url: 2 for url in split.urls}
