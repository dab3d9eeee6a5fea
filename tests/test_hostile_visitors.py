"""Visitors who send what no person types: every surface (API, kiosk and widget, CLI) answers with a sentence in the
visitor's language, never a 500 or a traceback."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi.testclient import TestClient

from assistant import cli
from assistant.app import build_assistant
from assistant.chat_models import FakeChatModel
from assistant.embedders import FakeEmbedder
from assistant.settings import Settings
from assistant.store import MemoryStore
from assistant.ui.conversation import Conversation, stream_answer
from assistant.ui.render import render_conversation
from tests.screens_support import scripted_reply
from tests.test_api import SSE, _build, _events, _imts_chat

NO_LETTERS_DE = "Bitte stellen Sie Ihre Frage in Worten – diese enthält keine Buchstaben."
NO_LETTERS_EN = "Please ask your question in words — this one has no letters."
EMPTY_DE, EMPTY_EN = "Bitte stellen Sie eine Frage.", "Please type a question."
WITHOUT_LETTERS = ["😀🤖🎉", "?!? 123 … 42", "\u202e\u2066 1\u00ad2", "\x00\x07\x7f ?!", "\u200b?\u200d"]
INVISIBLE_ONLY = ["\u200b\u200b\u200b\u200d", "\ufeff\u2060\u00ad", "\x1b\x07\x00", "\ud800"]
IDS = [ascii(q)[1:-1] for q in WITHOUT_LETTERS + INVISIBLE_ONLY]
EXPECTED = [(q, NO_LETTERS_DE, NO_LETTERS_EN) for q in WITHOUT_LETTERS] + [
    (q, EMPTY_DE, EMPTY_EN) for q in INVISIBLE_ONLY
]


# --- surrogates and other unencodable text ---------------------------------------------------------------------


def _post(client: TestClient, body: dict[str, Any], headers: dict[str, str] | None = None) -> httpx.Response:
    """As a browser sends it: a lone surrogate as a JSON escape (\\ud800), which Python reads back as one."""
    headers = {"Content-Type": "application/json", **(headers or {})}
    return client.post("/api/chat", content=json.dumps(body), headers=headers)


def test_a_lone_surrogate_in_a_question_is_no_500_in_the_api(settings: Settings, corpus: Path) -> None:
    _, app = _build(settings, corpus, _imts_chat())
    client = TestClient(app, raise_server_exceptions=False)
    response = _post(client, {"question": "When was IMTS first held?\ud800"})
    assert response.status_code == 200 and "1927" in response.json()["answer"]
    assert response.json()["question"] == "When was IMTS first held?"
    streamed = _post(client, {"question": "\udfffWhen was IMTS first held?"}, SSE)
    assert streamed.status_code == 200 and _events(streamed.text.splitlines())[-1][0] == "done"
    history = [{"role": "user", "content": "Tell me about IMTS\ud800"}]
    follow_up = _post(client, {"question": "When was it first held?", "history": history})
    assert follow_up.status_code == 422 and "history.0.content" in follow_up.json()["error"]  # pydantic's refusal
    alone = _post(client, {"question": "\ud800\udbff"})
    assert alone.status_code == 422 and alone.json() == {"error": "Please type a question."}


def test_a_lone_surrogate_on_a_screen_gives_an_answer_that_can_be_sent(settings: Settings, corpus: Path) -> None:
    a = build_assistant(settings, embedder=FakeEmbedder(), store=MemoryStore(), chat=FakeChatModel([scripted_reply]))
    a.ingest([corpus], progress=False)
    conv = Conversation(language="en")
    *_, exchange = stream_answer(a, conv, "When was IMTS first held?\ud800", None)
    assert exchange.status == "done" and "1927" in exchange.answer
    render_conversation(conv.exchanges, "en", "widget").encode("utf-8")  # what gradio sends: no surrogate in it


def test_a_question_that_is_not_utf8_is_answered_on_the_command_line(
    cli_env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ASSISTANT_LLM_BACKEND", "none")
    assert cli.main(["ingest", "--quiet"]) == 0
    # A byte that is not UTF-8 reaches Python's argv as a lone surrogate (surrogateescape).
    assert cli.main(["ask", "--json", "When was IMTS first held?\udcff"]) == 0
    assert "1927" in capsys.readouterr().out


# --- questions without letters ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("question", "german", "english"), EXPECTED, ids=IDS)
def test_a_question_without_letters_is_refused_in_the_visitors_language_in_the_api(
    settings: Settings, corpus: Path, question: str, german: str, english: str
) -> None:
    _, app = _build(settings, corpus, _imts_chat())
    client = TestClient(app)
    for language, message in (("de", german), ("en", english)):
        for headers in ({}, SSE):
            response = _post(client, {"question": question, "language": language}, headers)
            assert response.status_code == 422 and response.json() == {"error": message}


@pytest.mark.parametrize(("question", "german", "english"), EXPECTED, ids=IDS)
def test_a_question_without_letters_is_refused_on_a_screen_in_its_language(
    settings: Settings, corpus: Path, question: str, german: str, english: str
) -> None:
    chat = FakeChatModel([scripted_reply])
    a = build_assistant(settings, embedder=FakeEmbedder(), store=MemoryStore(), chat=chat)
    a.ingest([corpus], progress=False)
    *_, exchange = stream_answer(a, Conversation(language="de"), question, "de")
    assert exchange.status == "error" and exchange.answer == german
    *_, exchange = stream_answer(a, Conversation(language="en"), question, None)  # the widget: the page's language
    assert exchange.status == "error" and exchange.answer == english
    assert chat.calls == []


def test_a_question_without_letters_is_refused_on_the_command_line(
    cli_env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ASSISTANT_LLM_BACKEND", "none")
    assert cli.main(["ingest", "--quiet"]) == 0
    capsys.readouterr()
    assert cli.main(["ask", "😀😀😀"]) == 6
    assert capsys.readouterr().err == f"error: {NO_LETTERS_EN}\n"
    assert cli.main(["search", "\u200b\u200d"]) == 6  # a search may look up a bare number, not nothing


def test_zero_width_characters_do_not_hide_words_from_the_search(settings: Settings, corpus: Path) -> None:
    _, app = _build(settings, corpus, _imts_chat())
    response = TestClient(app).post("/api/chat", json={"question": "When was I\u200bM\u200bT\u200bS first held?"})
    assert response.status_code == 200 and response.json()["question"] == "When was IMTS first held?"
    assert "1927" in response.json()["answer"]


# --- links from documents ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "website",
    ["javascript:alert(document.cookie)", "data:text/html,<script>alert(1)</script>", "vbscript:x", "file:///etc/x"],
)
def test_the_api_drops_a_source_url_the_screens_would_not_link(settings: Settings, corpus: Path, website: str) -> None:
    path = corpus / "imts-2024.en.md"
    path.write_text(path.read_text(encoding="utf-8").replace("\nlanguage:", f'\nwebsite: "{website}"\nlanguage:', 1))
    _, app = _build(settings, corpus, _imts_chat())
    client = TestClient(app)
    answer = client.post("/api/chat", json={"question": "When was IMTS first held?"}).json()
    assert answer["sources"] and answer["sources"][0]["title"] == "IMTS 2024"
    assert [s["url"] for s in answer["sources"]] == [""] * len(answer["sources"])
    streamed = client.post("/api/chat", json={"question": "When was IMTS first held?"}, headers=SSE).text
    assert json.dumps(website)[1:-1] not in streamed and "javascript" not in streamed


def test_the_api_keeps_a_plain_https_source_url(settings: Settings, corpus: Path) -> None:
    path = corpus / "imts-2024.en.md"
    path.write_text(
        path.read_text(encoding="utf-8").replace("\nlanguage:", "\nwebsite: https://imts.example/\nlanguage:")
    )
    _, app = _build(settings, corpus, _imts_chat())
    answer = TestClient(app).post("/api/chat", json={"question": "When was IMTS first held?"}).json()
    assert answer["sources"][0]["url"] == "https://imts.example/"


# --- the rate limit ------------------------------------------------------------------------------------------------


def _screen_ask(app: Any, path: str) -> Any:
    """The question handler of the screen mounted at ``path`` (what gradio's queue calls for a question)."""
    from starlette.routing import Mount

    mount = next(r for r in app.routes if isinstance(r, Mount) and r.path == path)
    blocks = mount.app.app.get_blocks()  # GradioGuard → gradio's app
    return next(fn.fn for fn in blocks.fns.values() if fn.name == "ask")


def test_one_client_has_one_budget_across_the_api_the_kiosk_and_the_widget(tmp_path: Path) -> None:
    from types import SimpleNamespace

    from assistant.ui.texts import text
    from tests.screens_support import build_screens

    _, app = build_screens(tmp_path, delay_s=0, rate_limit_per_minute=4)
    client = TestClient(app)
    visitor = SimpleNamespace(client=SimpleNamespace(host="testclient"))  # TestClient's address
    question = {"question": "When was IMTS first held?"}
    assert [client.post("/api/chat", json=question).status_code for _ in range(2)] == [200, 200]

    def asked_on(path: str) -> str:
        conv = Conversation(language="en")
        list(_screen_ask(app, path)(conv, "When was IMTS first held?", visitor))
        return conv.exchanges[-1].answer

    assert "1927" in asked_on("/kiosk")
    assert "1927" in asked_on("/widget")
    assert asked_on("/kiosk") == asked_on("/widget") == text("rate_limited", "en")  # the budget of 4 is spent
    assert client.post("/api/chat", json=question).status_code == 429
    other = SimpleNamespace(client=SimpleNamespace(host="10.0.0.7"))
    conv = Conversation(language="en")
    list(_screen_ask(app, "/widget")(conv, "When was IMTS first held?", other))
    assert "1927" in conv.exchanges[-1].answer  # keyed by client: another visitor is not held up


def _serve_and_send(monkeypatch: pytest.MonkeyPatch, forwarded_for: list[str]) -> list[int]:
    """`assistant serve` for real (its own uvicorn options, a free port), then one chat request per entry of
    ``forwarded_for``, each from loopback with that X-Forwarded-For; their statuses."""
    from tests.screens_support import serving

    statuses: list[int] = []

    def run_for_real(app: Any, **options: Any) -> None:
        assert options["log_config"] is None  # uvicorn's records go through the guarded handler
        with serving(app, **options) as url:
            deadline = time.monotonic() + 20
            while httpx.get(f"{url}/api/ready").status_code != 200:
                assert time.monotonic() < deadline
                time.sleep(0.05)
            for address in forwarded_for:
                headers = {"X-Forwarded-For": address}
                body = {"question": "When was IMTS first held?"}
                statuses.append(httpx.post(f"{url}/api/chat", json=body, headers=headers, timeout=20).status_code)

    monkeypatch.setattr(uvicorn, "run", run_for_real)
    try:
        assert cli.main(["serve"]) == 0
    finally:
        logging.getLogger("assistant").setLevel(logging.NOTSET)
    return statuses


@pytest.fixture
def serve_env(tmp_path: Path, corpus: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    for name, value in {
        "EMBEDDER": "fake",
        "LLM_BACKEND": "none",
        "KNOWLEDGE_DIR": str(corpus),
        "CONFIG": str(tmp_path / "none.toml"),
        "RATE_LIMIT_PER_MINUTE": "3",
    }.items():
        monkeypatch.setenv(f"ASSISTANT_{name}", value)


def test_a_made_up_forwarded_for_gets_no_fresh_budget(serve_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    made_up = [f"203.0.113.{n}" for n in range(5)]
    assert _serve_and_send(monkeypatch, made_up) == [200, 200, 200, 429, 429]  # before: 200 every time


def test_behind_a_trusted_proxy_each_forwarded_client_has_its_own_budget(
    serve_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ASSISTANT_TRUSTED_PROXIES", '["127.0.0.1"]')
    clients = ["203.0.113.1"] * 4 + ["203.0.113.2"]
    assert _serve_and_send(monkeypatch, clients) == [200, 200, 200, 429, 200]


# --- the log ---------------------------------------------------------------------------------------------------------


def test_a_line_break_in_a_path_cannot_forge_a_line_of_the_access_log(
    settings: Settings, corpus: Path, caplog: pytest.LogCaptureFixture
) -> None:
    _, app = _build(settings, corpus, _imts_chat())
    forged = "/api/x%0A2025-01-01 INFO assistant.api: GET /api/ready 200 1 ms%0D%1B[2J%E2%80%AE"
    with caplog.at_level(logging.INFO, logger="assistant"):
        assert TestClient(app).get(forged).status_code == 404
    (line,) = [r.getMessage() for r in caplog.records if r.name == "assistant.api"]
    assert line.startswith("GET /api/x\\n2025-01-01 INFO") and " 404 " in line
    assert not any(ch in line for ch in "\n\r\x1b\u202e") and "\\r\\x1b[2J\\u202e" in line


def test_an_unknown_gradio_session_writes_no_traceback(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    from tests.screens_support import build_screens, serving

    _, app = build_screens(tmp_path)
    with caplog.at_level(logging.WARNING), serving(app, log_config=None) as url:  # uvicorn's records reach caplog
        for path in ("/kiosk", "/widget"):
            for _ in range(3):
                response = httpx.get(f"{url}{path}/gradio_api/queue/data?session_hash=nobody", timeout=10)
                assert response.status_code == 404 and response.json() == {"error": "Not found."}
    assert "Traceback" not in caplog.text and not any(r.exc_info for r in caplog.records), caplog.text


def _record(name: str, message: str, exc: BaseException | None = None) -> logging.LogRecord:
    exc_info = (type(exc), exc, exc.__traceback__) if exc is not None else None
    return logging.LogRecord(name, logging.ERROR, __file__, 1, message, (), exc_info)


def test_the_log_guard_writes_one_escaped_line_and_counts_what_it_suppresses() -> None:
    import io

    from assistant.log_guard import GuardedHandler, LogGuard

    now = [0.0]
    stream = io.StringIO()
    handler = GuardedHandler(stream, LogGuard(clock=lambda: now[0]))
    try:
        raise RuntimeError("Caught handled exception, but response already started.\nforged line")
    except RuntimeError as exc:
        error = exc
    for _ in range(500):  # what uvicorn, gradio and asyncio write for a provoked error
        handler.handle(_record("uvicorn.error", "Exception in ASGI application\n", error))
        handler.handle(_record("asyncio", "Task exception was never retrieved", error))
    handler.handle(_record("uvicorn.error", "Invalid HTTP request received."))
    handler.handle(_record("assistant.api", "unexpected error in GET /api/x\nforged", error))
    now[0] = 30.0
    handler.handle(_record("assistant.api", "GET /api/ready 200 1 ms"))
    assert "suppressed" not in stream.getvalue()  # not within the minute
    now[0] = 61.0
    handler.handle(_record("assistant.api", "GET /api/ready 200 1 ms"))
    now[0] = 62.0
    handler.handle(_record("uvicorn.error", "Exception in ASGI application\n", error))
    handler.handle(_record("assistant.api", "GET /api/ready 200 1 ms"))
    lines = stream.getvalue().splitlines()
    assert lines == [
        "unexpected error in GET /api/x\\nforged (RuntimeError: Caught handled exception, but response already "
        "started.\\nforged line)",
        "GET /api/ready 200 1 ms",
        "1001 log records from unauthenticated requests suppressed in the last minute",
        "GET /api/ready 200 1 ms",
        "GET /api/ready 200 1 ms",  # the next summary waits for the next minute
    ]
    assert "Traceback" not in stream.getvalue()


def test_serve_writes_its_log_through_the_guard(serve_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    from assistant.log_guard import GuardedHandler

    configured: dict[str, Any] = {}
    monkeypatch.setattr(logging, "basicConfig", lambda **kw: configured.update(kw))
    _serve_and_send(monkeypatch, [])
    assert [type(h) for h in configured["handlers"]] == [GuardedHandler]
