"""The organiser page /organiser/: off without a token, the sign-in and its rate limit, the cookie, the page (the
report of `assistant report`) and its CSV and Markdown stub downloads behind the cookie."""

from __future__ import annotations

import csv
import io
import logging
import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from assistant.api import create_app
from assistant.app import Assistant, build_assistant
from assistant.embedders import FakeEmbedder
from assistant.organiser.web import ATTEMPTS_PER_MINUTE, COOKIE, SESSION_S, Sessions, parse_period
from assistant.settings import Settings
from assistant.store import MemoryStore
from tests.test_organiser_report import HOSTILE, _gap, _row

TOKEN = "correct-horse-battery-staple"
PERIOD = {"since": "2024-09-09", "until": "2024-09-09"}


def _assistant(settings: Settings, **overrides) -> Assistant:
    assistant = build_assistant(settings.with_overrides(**overrides), embedder=FakeEmbedder(), store=MemoryStore())
    assert assistant.recorder is not None
    assistant.recorder.store().add_many(
        [
            _gap(0, f"Is there a {HOSTILE} shuttle bus?"),
            _gap(1, f"Is there a {HOSTILE} shuttle bus"),
            _gap(2, "Wo ist die Garderobe?", "de"),
            _row(3, "Who founded GRIP?", rating="down", feedback_reason="wrong", answer=f"Answer {HOSTILE}"),
        ]
    )
    return assistant


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    assistant = _assistant(settings, organiser_token=TOKEN)
    with TestClient(create_app(assistant, assistant.settings)) as client:
        yield client


def _sign_in(client: TestClient, token: str = TOKEN):
    return client.post("/organiser/login", data={"token": token}, follow_redirects=False)


def test_without_a_token_the_page_does_not_exist(settings: Settings) -> None:
    assistant = _assistant(settings)
    client = TestClient(create_app(assistant, settings))
    assert client.get("/organiser/").status_code == 404
    assert client.post("/organiser/login", data={"token": "anything-at-all"}).status_code == 404
    assert client.get("/organiser/table/overview.csv", params=PERIOD).status_code == 404


def test_a_short_token_is_refused_when_the_settings_are_read(settings: Settings) -> None:
    with pytest.raises(ValueError, match="at least 12 characters"):
        settings.with_overrides(organiser_token="short")
    assert settings.with_overrides(organiser_token="").organiser_token is not None  # empty: off, no error


def test_the_page_asks_for_the_token_first(client: TestClient) -> None:
    response = client.get("/organiser/")
    assert response.status_code == 200 and response.headers["cache-control"] == "no-store"
    assert '<form class="controls" method="post" action="/organiser/login">' in response.text
    assert 'type="password" id="token" name="token"' in response.text and '<label for="token">' in response.text
    assert "Who founded GRIP" not in response.text and "<script" not in response.text
    assert "default-src 'self'" in response.headers["content-security-policy"]


def test_a_wrong_token_is_refused_then_rate_limited_and_never_logged(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    for _ in range(ATTEMPTS_PER_MINUTE):
        wrong = _sign_in(client, "not-the-token-1234")
        assert wrong.status_code == 401 and "That is not the organiser token" in wrong.text
        assert COOKIE not in wrong.headers.get("set-cookie", "")
    limited = _sign_in(client, "not-the-token-1234")
    assert limited.status_code == 429 and int(limited.headers["retry-after"]) >= 1
    assert re.search(r"Too many wrong tokens from this address\. Please wait \d+ seconds", limited.text)
    assert _sign_in(client).status_code == 429  # the right token too: guessing cannot go on behind the limit
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "not-the-token-1234" not in logged and TOKEN not in logged
    assert "/organiser/login 401" in logged  # the access log names the path and status only


def test_the_right_token_sets_a_strict_http_only_cookie_without_the_token(client: TestClient) -> None:
    response = _sign_in(client)
    assert response.status_code == 303 and response.headers["location"] == "/organiser/"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}=") and TOKEN not in cookie
    attributes = {part.strip().lower() for part in cookie.split(";")}
    assert {"httponly", "samesite=strict", "path=/organiser", f"max-age={SESSION_S}"} <= attributes
    assert "secure" not in attributes  # plain http on loopback: a Secure cookie would not come back


def test_over_https_the_cookie_is_secure(settings: Settings) -> None:
    assistant = _assistant(settings, organiser_token=TOKEN)
    client = TestClient(create_app(assistant, assistant.settings), base_url="https://fair.example")
    cookie = _sign_in(client).headers["set-cookie"]
    assert "secure" in {part.strip().lower() for part in cookie.split(";")}


def test_signed_in_the_page_shows_the_report_with_every_stranger_text_escaped(client: TestClient) -> None:
    _sign_in(client)
    page = client.get("/organiser/", params=PERIOD)
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    text = page.text
    assert "Questions the materials could not answer" in text and "Answers rated down" in text
    assert "Group 1: asked 2 times (en)" in text and "Wo ist die Garderobe?" in text
    assert "<script" not in text and "<img src=x" not in text and "&lt;script&gt;" in text
    assert "2024-09-09 to 2024-09-09 (UTC), 4 answers." in text
    query = "since=2024-09-09&amp;until=2024-09-09"
    assert f'href="/organiser/table/content-gaps.csv?{query}"' in text
    assert f'href="/organiser/stub/gap-2024-09-09-1.en.md?{query}"' in text
    assert "data:text/csv" not in text  # served downloads, not the report file's data: links
    assert 'value="2024-09-09" required' in text and 'action="/organiser/logout"' in text


def test_the_period_defaults_to_the_retention_window_and_a_bad_one_is_explained(client: TestClient) -> None:
    assert parse_period(None, None, 30, today=date(2024, 9, 30)).first == date(2024, 8, 31)
    _sign_in(client)
    assert "0 answers" in client.get("/organiser/").text  # the rows of 2024 are long out of the window
    bad = client.get("/organiser/", params={"since": "9.9.2024"})
    assert bad.status_code == 400 and "'From' is not a day as YYYY-MM-DD." in bad.text
    backwards = client.get("/organiser/", params={"since": "2024-09-10", "until": "2024-09-09"})
    assert backwards.status_code == 400 and "The period ends before it begins" in backwards.text


def test_csv_downloads_need_the_cookie(client: TestClient) -> None:
    assert client.get("/organiser/table/rated-down.csv", params=PERIOD).status_code == 401
    _sign_in(client)
    response = client.get("/organiser/table/rated-down.csv", params=PERIOD)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    assert response.headers["content-disposition"] == 'attachment; filename="rated-down.csv"'
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[0][3:] == ["question", "answer", "sources", "reason"]
    assert rows[1][3:] == ["Who founded GRIP?", f"Answer {HOSTILE}", "GRIP GmbH", "wrong"]
    assert client.get("/organiser/table/no-such.csv", params=PERIOD).status_code == 404
    client.cookies.clear()
    client.cookies.set(COOKIE, "9999999999.forged")
    assert client.get("/organiser/table/rated-down.csv", params=PERIOD).status_code == 401


def test_a_content_gap_group_downloads_as_its_markdown_stub(client: TestClient) -> None:
    assert client.get("/organiser/stub/gap-2024-09-09-2.de.md", params=PERIOD).status_code == 401
    _sign_in(client)
    stub = client.get("/organiser/stub/gap-2024-09-09-2.de.md", params=PERIOD)
    assert stub.status_code == 200 and stub.headers["content-type"].startswith("text/markdown")
    assert 'filename="gap-2024-09-09-2.de.md"' in stub.headers["content-disposition"]
    assert stub.text.startswith('---\nid: "gap-2024-09-09-2"') and "## Wo ist die Garderobe?" in stub.text
    assert client.get("/organiser/stub/gap-2024-09-09-9.de.md", params=PERIOD).status_code == 404


def test_sign_out_forgets_the_cookie(client: TestClient) -> None:
    _sign_in(client)
    out = client.post("/organiser/logout", follow_redirects=False)
    assert out.status_code == 303 and f'{COOKIE}=""' in out.headers["set-cookie"]
    assert "Organiser token" in client.get("/organiser/").text


def test_a_session_cookie_expires_and_cannot_be_forged() -> None:
    now = [1_000_000.0]
    sessions = Sessions(TOKEN, clock=lambda: now[0])
    value = sessions.issue()
    assert sessions.valid(value) and TOKEN not in value
    assert not Sessions("another-token-entirely", clock=lambda: now[0]).valid(value)  # a new token: signed out
    expires, _, mac = value.partition(".")
    assert not sessions.valid(f"{int(expires) + 3600}.{mac}")  # a longer life cannot be written in
    assert not sessions.valid("") and not sessions.valid(None) and not sessions.valid("x.y")
    now[0] += SESSION_S + 1
    assert not sessions.valid(value)
    assert sessions.matches(TOKEN) and not sessions.matches(TOKEN + "x") and not sessions.matches("")


def test_the_page_reads_a_record_left_from_before_recording_was_switched_off(
    settings: Settings, tmp_path: Path
) -> None:
    _assistant(settings)  # writes the rows into the SQLite file next to the index
    assistant = build_assistant(
        settings.with_overrides(organiser_token=TOKEN, record_questions=False),
        embedder=FakeEmbedder(),
        store=MemoryStore(),
    )
    assert assistant.recorder is None
    client = TestClient(create_app(assistant, assistant.settings))
    _sign_in(client)
    assert "4 answers." in client.get("/organiser/", params=PERIOD).text
