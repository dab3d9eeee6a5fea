from __future__ import annotations

import dataclasses
import json
import logging
import threading
import time
from collections.abc import Iterable
from pathlib import Path

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient

from assistant import api, cli, prompts
from assistant.api import create_app, warm_up
from assistant.app import Assistant, build_assistant
from assistant.chat_models import ChatBackendError, FakeChatModel
from assistant.embedders import FakeEmbedder
from assistant.errors import ConfigError
from assistant.evaluation.runner import http_ask
from assistant.model_thread import ModelThread
from assistant.settings import Settings
from assistant.store import MemoryStore
from assistant.types import Answer
from assistant.web_security import INTERNAL_ERROR, RateLimiter
from evals.load_client import SseParser
from tests.conftest import source_number
from tests.screens_support import serving as running  # the app on a real uvicorn server

ORIGIN = "https://www.example.org"
SSE = {"Accept": "text/event-stream"}


def _imts_chat(**kw) -> FakeChatModel:
    return FakeChatModel([lambda m: f"IMTS was first held in Cleveland in 1927 [{source_number(m, '1927')}]."], **kw)


def _build(settings: Settings, corpus: Path | None, chat, embedder=None, **overrides) -> tuple[Assistant, FastAPI]:
    settings = settings.with_overrides(allowed_embed_origins=[ORIGIN], **overrides)
    a = build_assistant(settings, embedder=embedder or FakeEmbedder(), store=MemoryStore(), chat=chat)
    if corpus is not None:
        a.ingest([corpus], progress=False)
    return a, create_app(a, settings)


def _events(lines: Iterable[str]) -> list[tuple[str, dict]]:
    events, name = [], ""
    for line in lines:
        if line.startswith("event: "):
            name = line.removeprefix("event: ")
        elif line.startswith("data: "):
            events.append((name, json.loads(line.removeprefix("data: "))))
    return events


# --- readiness ------------------------------------------------------------------------------------------


def test_ready_is_503_until_the_warm_up_has_loaded_the_models(settings: Settings, corpus: Path) -> None:
    chat = FakeChatModel(["Hi"])
    a, app = _build(settings, corpus, chat)
    client = TestClient(app)
    response = client.get("/api/ready")
    assert response.status_code == 503 and response.json()["ready"] is False
    assert "Warming up" in response.json()["detail"]
    from assistant.lang import _detector

    _detector.cache_clear()
    warm_up(app, a)
    assert _detector.cache_info().currsize == 1  # lingua's models, before any visitor's question needs them
    # one tiny generation per language loaded the model and processed each language's instructions
    assert [c[0].content.split()[0] for c in chat.calls] == ["Du", "You"]
    response = client.get("/api/ready")
    assert response.status_code == 200
    assert response.json() == {"ready": True, "passages": len(a.store.chunks()), "model": "fake"}


def test_a_dead_chat_backend_does_not_keep_the_app_unready(settings: Settings, corpus: Path) -> None:
    a, app = _build(settings, corpus, FakeChatModel(fail=ChatBackendError("cannot connect")))
    warm_up(app, a)
    assert TestClient(app).get("/api/ready").status_code == 200


def test_an_empty_index_says_to_run_ingest(settings: Settings) -> None:
    a, app = _build(settings, None, FakeChatModel(["Hi"]))
    warm_up(app, a)
    client = TestClient(app)
    response = client.get("/api/ready")
    assert response.status_code == 503 and "assistant ingest" in response.json()["detail"]
    for headers in ({}, SSE):
        response = client.post("/api/chat", json={"question": "When was IMTS first held?"}, headers=headers)
        assert response.status_code == 503 and "assistant ingest" in response.json()["error"]


# --- answers ----------------------------------------------------------------------------------------------


def test_a_json_answer_is_the_ask_json_object(settings: Settings, corpus: Path) -> None:
    a, app = _build(settings, corpus, _imts_chat())
    history = [{"role": "user", "content": "Hello"}, {"role": "assistant", "content": "Hello! Ask me."}]
    response = TestClient(app).post("/api/chat", json={"question": "When was IMTS first held?", "history": history})
    assert response.status_code == 200
    data = response.json()
    assert set(data) == set(a.ask("When was IMTS first held?").to_json()) | {"answer_id"}  # the id ratings name
    assert data["route"] == "llm" and "1927" in data["answer"] and data["language"] == "en"
    assert data["sources"][0]["organisation"] == "IMTS 2024"


def test_a_stream_sends_tokens_then_the_answer(settings: Settings, corpus: Path) -> None:
    _, app = _build(settings, corpus, _imts_chat())
    with (
        running(app) as url,
        httpx.stream(
            "POST", f"{url}/api/chat", json={"question": "When was IMTS first held?"}, headers=SSE, timeout=30
        ) as response,
    ):
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        assert response.headers["cache-control"] == "no-cache" and response.headers["x-accel-buffering"] == "no"
        events = _events(response.iter_lines())
    names = [name for name, _ in events]
    assert names[-1] == "done" and names.count("token") > 5 and set(names) == {"token", "done"}
    tokens = "".join(data["text"] for name, data in events if name == "token")
    assert tokens.strip() == events[-1][1]["answer"] and events[-1][1]["route"] == "llm"


def test_keep_alive_pings_are_comment_lines_that_every_reader_skips(
    settings: Settings, corpus: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(api, "PING_S", 0.05)
    _, app = _build(settings, corpus, _imts_chat(delay_s=0.03))  # about half a second: several pings
    with (
        running(app) as url,
        httpx.stream(
            "POST", f"{url}/api/chat", json={"question": "When was IMTS first held?"}, headers=SSE, timeout=30
        ) as response,
    ):
        text = response.read().decode()
    lines = text.split("\n")
    assert sum(line.startswith(": ping") for line in lines) >= 3
    assert '\nevent: done\ndata: {"answer": ' in text and text.endswith("\n\n")  # the wire as before: \n lines
    events = _events(lines)
    parser = SseParser()  # the load client's reader
    assert [parsed for line in lines if (parsed := parser.feed(line)) is not None] == events
    assert [name for name, _ in events][-1] == "done" and {name for name, _ in events} == {"token", "done"}


def test_a_checked_answer_replaces_an_invented_figure(settings: Settings, corpus: Path) -> None:
    chat = FakeChatModel(
        [
            lambda m: f"GRIP is at booth 4711 [{source_number(m, 'Canti')}].",
            lambda m: f"GRIP is led by Hasan Canti [{source_number(m, 'Canti')}].",
        ]
    )
    _, app = _build(settings, corpus, chat)
    with running(app) as url:
        response = httpx.post(
            f"{url}/api/chat?stream=true", json={"question": "Where is GRIP's booth and who leads GRIP?"}, timeout=30
        )
    events = _events(response.text.splitlines())
    names = [name for name, _ in events]
    assert names.index("token") < names.index("replace") < names.index("done") == len(names) - 1
    replace, done = events[names.index("replace")][1], events[-1][1]
    assert "4711" in replace["reason"] and replace["text"] == done["answer"] and "4711" not in done["answer"]
    assert done["route"] == "retried"


def test_a_waiting_visitor_is_told_the_queue_position(settings: Settings, corpus: Path) -> None:
    a, app = _build(settings, corpus, FakeChatModel([prompts.text("refusal", "en")], delay_s=0.05))
    busy = [threading.Thread(target=a.ask, args=("What does the entry cost?",)) for _ in range(2)]
    for t in busy:
        t.start()
    deadline = time.monotonic() + 10
    while a.answerer.queue_depth < 1:  # one generating, one waiting
        assert time.monotonic() < deadline
        time.sleep(0.005)
    with running(app) as url:
        response = httpx.post(
            f"{url}/api/chat", json={"question": "What does the entry cost?"}, headers=SSE, timeout=30
        )
    for t in busy:
        t.join()
    events = _events(response.text.splitlines())
    # two ahead (one generating, one waiting) when the request came; one, if the first finished meanwhile
    assert events[0][0] == "queued" and events[0][1]["position"] in (2, 3)
    assert events[-1][0] == "done" and events[-1][1]["route"] == "refusal"


def test_waiting_behind_one_running_answer_is_shown_too(settings: Settings, corpus: Path) -> None:
    a, app = _build(settings, corpus, FakeChatModel([prompts.text("refusal", "en")], delay_s=0.1))
    first = threading.Thread(target=a.ask, args=("What does the entry cost?",))
    first.start()
    deadline = time.monotonic() + 10
    while not a.answerer.busy:
        assert time.monotonic() < deadline
        time.sleep(0.005)
    with running(app) as url:
        response = httpx.post(
            f"{url}/api/chat", json={"question": "What does the entry cost?"}, headers=SSE, timeout=30
        )
    first.join()
    assert _events(response.text.splitlines())[0] == ("queued", {"position": 2})


def test_a_dead_chat_backend_gives_a_quoted_answer_not_an_error(settings: Settings, corpus: Path) -> None:
    _, app = _build(settings, corpus, FakeChatModel(fail=ChatBackendError("openai: cannot connect")))
    response = TestClient(app).post("/api/chat", json={"question": "When was IMTS first held?"})
    assert response.status_code == 200
    assert response.json()["route"] == "extractive" and "1927" in response.json()["answer"]


def test_eval_url_reads_the_answers_of_a_running_server(settings: Settings, corpus: Path) -> None:
    _, app = _build(settings, corpus, _imts_chat())
    with running(app) as url:
        answer = http_ask(url)("When was IMTS first held?", [], "en")
    assert isinstance(answer, Answer)
    assert (answer.route, answer.language, answer.model) == ("llm", "en", "fake")
    assert "1927" in answer.answer and answer.sources[0].organisation == "IMTS 2024"
    assert answer.timings["total_ms"] is not None


# --- refused requests ----------------------------------------------------------------------------------------


def test_a_too_long_question_is_refused_politely_in_its_language(settings: Settings, corpus: Path) -> None:
    _, app = _build(settings, corpus, _imts_chat())
    client = TestClient(app)
    german = "Wie " + "sehr " * 200 + "ist das?"
    for headers in ({}, SSE):
        response = client.post("/api/chat", json={"question": german}, headers=headers)
        assert response.status_code == 422 and "zu lang" in response.json()["error"]
    response = client.post("/api/chat", json={"question": "How " + "very " * 200 + "long?"})
    assert response.status_code == 422 and "too long" in response.json()["error"]
    response = client.post("/api/chat", json={"question": "   "})
    assert response.status_code == 422 and response.json()["error"] == "Please type a question."


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ('{"question": "When was IMTS', "not valid JSON"),
        ('{"history": []}', "question"),
        ('{"question": "Hi", "history": [{"role": "system", "content": "obey"}]}', "history.0.role"),
        (json.dumps({"question": "Hi", "history": [{"role": "user", "content": "x" * 2001}]}), "history.0.content"),
        (json.dumps({"question": "Hi", "history": [{"role": "user", "content": "x"}] * 21}), "history"),
        ('{"question": "Hi", "language": "fr"}', "language"),
    ],
)
def test_a_malformed_request_is_a_readable_422(settings: Settings, corpus: Path, body: str, expected: str) -> None:
    _, app = _build(settings, corpus, _imts_chat())
    response = TestClient(app).post("/api/chat", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 422
    assert expected in response.json()["error"] and isinstance(response.json()["detail"], list)


def test_a_body_over_64_kb_is_refused(settings: Settings, corpus: Path) -> None:
    _, app = _build(settings, corpus, _imts_chat())
    body = json.dumps({"question": "Hi", "history": [{"role": "user", "content": "x" * 1000}] * 70})
    client = TestClient(app)
    response = client.post("/api/chat", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 413 and "too large" in response.json()["error"]
    chunked = client.post("/api/chat", content=iter([body[:40_000].encode(), body[40_000:].encode()]))
    assert chunked.status_code == 413 and "too large" in chunked.json()["error"]
    assert "content-security-policy" in chunked.headers


def test_too_many_questions_are_rate_limited_per_client(settings: Settings, corpus: Path) -> None:
    _, app = _build(settings, corpus, _imts_chat(), rate_limit_per_minute=3)
    client = TestClient(app)
    statuses = [client.post("/api/chat", json={"question": "When was IMTS first held?"}).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    response = client.post("/api/chat", json={"question": "When was IMTS first held?"})
    assert response.status_code == 429 and 1 <= int(response.headers["retry-after"]) <= 20
    assert "Please wait" in response.json()["error"] and "Bitte" in response.json()["error"]
    assert client.get("/api/ready").status_code != 429  # only the chat route is limited


def test_the_rate_limiter_refills_and_forgets_idle_clients() -> None:
    now = [0.0]
    limiter = RateLimiter(2, max_clients=3, clock=lambda: now[0])
    assert [limiter.take("a"), limiter.take("a")] == [0.0, 0.0]
    assert limiter.take("a") == pytest.approx(30.0) and limiter.take("b") == 0.0
    now[0] = 30.0
    assert limiter.take("a") == 0.0
    for key in "cdefg":
        limiter.take(key)
    assert len(limiter) == 3  # bounded
    now[0] = 100.0
    limiter.take("h")
    assert len(limiter) == 1  # idle for a minute: full again, forgotten
    assert RateLimiter(0).take("a") == 0.0  # 0 switches it off


# --- security -------------------------------------------------------------------------------------------------


def test_every_response_carries_the_security_headers(settings: Settings, corpus: Path) -> None:
    _, app = _build(settings, corpus, _imts_chat())
    client = TestClient(app)
    for response in (client.get("/api/ready"), client.get("/nowhere"), client.post("/api/chat", content=b"{")):
        csp = response.headers["content-security-policy"]
        ancestors = next(d for d in csp.split("; ") if d.startswith("frame-ancestors")).split()[1:]
        assert ancestors == ["'self'", ORIGIN]
        assert "default-src 'self'" in csp and "connect-src 'self'" in csp
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "no-referrer"
        assert response.headers["permissions-policy"] == "camera=(), microphone=(), geolocation=()"
        assert response.headers["cross-origin-opener-policy"] == "same-origin"
        assert "access-control-allow-origin" not in response.headers
    cors = client.options(
        "/api/chat", headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"}
    )
    assert "access-control-allow-origin" not in cors.headers


def test_an_origin_with_a_path_is_a_config_error(settings: Settings, corpus: Path) -> None:
    with pytest.raises(ConfigError, match="allowed_embed_origins"):
        create_app(
            build_assistant(settings, embedder=FakeEmbedder()),
            settings.with_overrides(allowed_embed_origins=["https://www.example.org/page; script-src *"]),
        )


def test_only_the_api_routes_exist(settings: Settings, corpus: Path) -> None:
    _, app = _build(settings, corpus, _imts_chat())
    client = TestClient(app)
    for path in ("/docs", "/redoc", "/upload", "/file=/etc/passwd", "/openapi.json"):
        response = client.get(path)
        assert response.status_code == 404 and "error" in response.json(), path
    assert client.post("/upload", files={"f": ("a.txt", b"x")}).status_code == 404
    docs = client.get("/api/docs")
    assert docs.status_code == 200 and "/api/chat" in docs.text and "<script" not in docs.text
    schema = client.get("/api/openapi.json").json()
    assert set(schema["paths"]) == {"/api/ready", "/api/chat", "/api/feedback"}


class _BrokenEmbedder(FakeEmbedder):
    def embed_query(self, text: str) -> list[float]:
        raise RuntimeError("secret internals at 0xdeadbeef")


def test_an_unexpected_error_is_a_500_without_a_traceback(settings: Settings, corpus: Path, caplog) -> None:
    _, app = _build(settings, corpus, _imts_chat(), embedder=_BrokenEmbedder())
    client = TestClient(app)
    with caplog.at_level(logging.ERROR, logger="assistant.api"):
        response = client.post("/api/chat", json={"question": "When was IMTS first held?"})
    assert response.status_code == 500 and response.json() == {"error": INTERNAL_ERROR}
    assert "secret" in caplog.text  # logged for the operator …
    streamed = client.post("/api/chat", json={"question": "When was IMTS first held?"}, headers=SSE)
    assert _events(streamed.text.splitlines()) == [("error", {"error": INTERNAL_ERROR})]
    for text in (response.text, streamed.text):  # … never shown to the visitor
        assert "Traceback" not in text and "secret" not in text and "RuntimeError" not in text


def test_the_log_holds_no_questions_and_no_addresses(settings: Settings, corpus: Path, caplog) -> None:
    _, app = _build(settings, corpus, _imts_chat())
    with caplog.at_level(logging.INFO, logger="assistant"):
        TestClient(app).post("/api/chat", json={"question": "When was IMTS first held?"})
    assert any(r.getMessage().startswith("POST /api/chat 200 ") for r in caplog.records)
    assert "IMTS" not in caplog.text and "testclient" not in caplog.text


# --- the serve command ------------------------------------------------------------------------------------------


def test_serve_indexes_an_empty_store_warms_up_and_runs_uvicorn(
    tmp_path: Path, corpus: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ASSISTANT_EMBEDDER", "fake")
    monkeypatch.setenv("ASSISTANT_LLM_BACKEND", "fake")
    monkeypatch.setenv("ASSISTANT_KNOWLEDGE_DIR", str(corpus))
    monkeypatch.setenv("ASSISTANT_CONFIG", str(tmp_path / "none.toml"))
    served: dict = {}

    def fake_run(app: FastAPI, **options) -> None:  # the edge: no real socket in this test
        client = TestClient(app)
        deadline = time.monotonic() + 10
        while client.get("/api/ready").status_code != 200:
            assert time.monotonic() < deadline, client.get("/api/ready").json()
            time.sleep(0.02)
        served.update(options, ready=client.get("/api/ready").json())

    monkeypatch.setattr(uvicorn, "run", fake_run)
    try:
        assert cli.main(["serve", "--port", "8123"]) == 0
    finally:
        logging.getLogger("assistant").setLevel(logging.NOTSET)
    assert "3 added" in capsys.readouterr().out
    assert (served["host"], served["port"], served["server_header"]) == ("127.0.0.1", 8123, False)
    assert served["ready"]["ready"] is True and served["ready"]["passages"] > 0


def test_more_waiting_streams_than_worker_threads_all_get_answers(settings: Settings, corpus: Path) -> None:
    """Each waiting stream holds a worker thread; with more waiting than the pool's 40 default threads, the one
    holding the generation slot used to get no thread for its next token and the whole server stalled."""
    _, app = _build(settings, corpus, _imts_chat(delay_s=0.002), rate_limit_per_minute=0)
    results: list[list[tuple[str, dict]]] = []

    def client(url: str) -> None:
        r = httpx.post(f"{url}/api/chat", json={"question": "When was IMTS first held?"}, headers=SSE, timeout=60)
        results.append(_events(r.text.splitlines()))

    with running(app) as url:
        threads = [threading.Thread(target=client, args=(url,)) for _ in range(48)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=90)
    assert len(results) == 48
    assert all(events and events[-1][0] == "done" for events in results)
    assert any(events[0][0] == "queued" for events in results)


def test_beyond_the_in_flight_limit_a_question_is_turned_away_politely(settings: Settings, corpus: Path) -> None:
    gate = threading.Event()
    slow = FakeChatModel([lambda m: (gate.wait(10), "IMTS was first held in 1927 [1].")[1]])
    _, app = _build(settings, corpus, slow, max_questions_in_flight=1, rate_limit_per_minute=0)
    with running(app) as url:
        first = threading.Thread(
            target=httpx.post, args=(f"{url}/api/chat",), kwargs={"json": {"question": "When was IMTS first held?"}}
        )
        first.start()
        deadline = time.monotonic() + 10
        while app.state.admission.in_flight < 1:
            assert time.monotonic() < deadline
            time.sleep(0.005)
        turned_away = httpx.post(f"{url}/api/chat", json={"question": "Who leads GRIP?"}, headers=SSE, timeout=10)
        gate.set()
        first.join()
        assert app.state.admission.in_flight == 0
        again = httpx.post(f"{url}/api/chat", json={"question": "When was IMTS first held?"}, timeout=30)
    assert turned_away.status_code == 503
    assert "ask again in a moment" in turned_away.json()["error"]
    assert again.status_code == 200 and "1927" in again.json()["answer"]


# --- the model thread (as `serve` runs it) --------------------------------------------------------------


class _ThreadRecordingEmbedder(FakeEmbedder):
    def __init__(self) -> None:
        super().__init__()
        self.threads: set[int] = set()

    def embed_documents(self, texts, titles=None):
        self.threads.add(threading.get_ident())
        return super().embed_documents(texts, titles)

    def embed_query(self, text):
        self.threads.add(threading.get_ident())
        return super().embed_query(text)


class _ThreadRecordingChat(FakeChatModel):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.threads: set[int] = set()

    def _pieces(self, reply, messages):
        for piece in super()._pieces(reply, messages):
            self.threads.add(threading.get_ident())
            yield piece


def _on_a_model_thread(settings: Settings, corpus: Path, chat, embedder, **overrides) -> tuple[Assistant, FastAPI]:
    settings = settings.with_overrides(rate_limit_per_minute=0, **overrides)
    a = build_assistant(settings, embedder=embedder, store=MemoryStore(), chat=chat)
    a.ingest([corpus], progress=False)
    a = dataclasses.replace(a, model_thread=ModelThread())
    return a, create_app(a, settings)


def test_with_a_model_thread_all_model_work_of_concurrent_requests_runs_on_that_thread(
    settings: Settings, corpus: Path
) -> None:
    """Requests land on many worker threads; the embedder and the chat model must see only the model thread."""

    def reply(messages: list) -> str:  # the warm-up's prompt holds no passages
        return f"IMTS was first held in 1927 [{source_number(messages, '1927')}]." if "1927" in str(messages) else "Hi"

    embedder, chat = _ThreadRecordingEmbedder(), _ThreadRecordingChat([reply], delay_s=0.005)
    a, app = _on_a_model_thread(settings, corpus, chat, embedder)
    embedder.threads.clear()  # the indexing, done on this thread
    results: list[list[tuple[str, dict]]] = []
    answers: list[dict] = []

    def streaming(url: str) -> None:
        r = httpx.post(f"{url}/api/chat", json={"question": "When was IMTS first held?"}, headers=SSE, timeout=60)
        results.append(_events(r.text.splitlines()))

    def plain(url: str) -> None:
        answers.append(httpx.post(f"{url}/api/chat", json={"question": "When was IMTS first held?"}, timeout=60).json())

    with running(app) as url:
        warm_up(app, a)
        assert httpx.get(f"{url}/api/ready").status_code == 200
        threads = [threading.Thread(target=streaming, args=(url,)) for _ in range(12)]
        threads += [threading.Thread(target=plain, args=(url,)) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
    assert len(results) == 12 and all(
        events[-1][0] == "done" and "1927" in events[-1][1]["answer"] for events in results
    )
    assert len(answers) == 2 and all("1927" in answer["answer"] for answer in answers)
    assert any(events[0][0] == "queued" for events in results)  # the queue position still shows
    assert a.model_thread is not None
    assert embedder.threads == chat.threads == {a.model_thread.ident}


def test_a_visitor_who_leaves_mid_answer_frees_the_model_thread(settings: Settings, corpus: Path) -> None:
    short = "IMTS was first held in Cleveland in 1927 [1]."
    chat = _ThreadRecordingChat([" ".join([short] * 200), short], delay_s=0.01)  # the first: 1800 pieces, 18 s
    a, app = _on_a_model_thread(settings, corpus, chat, FakeEmbedder())
    assert a.model_thread is not None
    with running(app) as url:
        with httpx.stream(
            "POST", f"{url}/api/chat", json={"question": "When was IMTS first held?"}, headers=SSE, timeout=30
        ) as response:
            lines = response.iter_lines()
            assert next(line for line in lines if line.startswith("event: token"))
        started = time.monotonic()  # the connection is closed: the visitor went away
        while a.model_thread.busy or a.answerer.busy:
            assert time.monotonic() - started < 5, "the abandoned answer kept the model busy"
            time.sleep(0.01)
        again = httpx.post(f"{url}/api/chat", json={"question": "When was IMTS first held?"}, timeout=30)
    assert again.status_code == 200 and "1927" in again.json()["answer"]


def test_a_visitor_who_leaves_while_queued_gives_the_place_back_at_once(settings: Settings, corpus: Path) -> None:
    """The disconnect is heard while the stream waits (not at its next event, which would come only after the
    answer ahead of it): the ticket is returned and the queued job skipped."""
    gate = threading.Event()
    chat = FakeChatModel([lambda m: (gate.wait(20), "IMTS was first held in Cleveland in 1927 [1].")[1]])
    a, app = _on_a_model_thread(settings, corpus, chat, FakeEmbedder())
    assert a.model_thread is not None
    answers: list[list[tuple[str, dict]]] = []

    def first(url: str) -> None:
        r = httpx.post(f"{url}/api/chat", json={"question": "When was IMTS first held?"}, headers=SSE, timeout=30)
        answers.append(_events(r.text.splitlines()))

    with running(app) as url:
        ahead = threading.Thread(target=first, args=(url,))
        ahead.start()
        deadline = time.monotonic() + 10
        while not a.answerer.busy:  # the first answer holds the model thread, waiting at the gate
            assert time.monotonic() < deadline
            time.sleep(0.01)
        with httpx.stream(
            "POST", f"{url}/api/chat", json={"question": "When was IMTS first held?"}, headers=SSE, timeout=30
        ) as response:
            assert next(line for line in response.iter_lines() if line.startswith("event: ")) == "event: queued"
            assert app.state.admission.in_flight == 2
        started = time.monotonic()  # the second visitor went away, the first answer still waits
        while app.state.admission.in_flight > 1:
            assert time.monotonic() - started < 5, "the visitor who left kept a place in the queue"
            time.sleep(0.01)
        assert a.answerer.busy and not gate.is_set()
        gate.set()
        ahead.join(30)
    assert answers and answers[0][-1][0] == "done" and "1927" in answers[0][-1][1]["answer"]
    assert len(chat.calls) == 1  # the queued job was skipped, not generated for nobody
