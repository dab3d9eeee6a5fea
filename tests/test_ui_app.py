"""The screens mounted into the app (no browser): routes, headers, the embed script, the closed gradio routes."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient

from assistant import cli
from assistant.ui.common import ScreenLimiter
from assistant.ui.kiosk import build_kiosk
from assistant.ui.widget import build_widget
from assistant.web_security import RateLimiter
from tests.conftest import ROOT
from tests.screens_support import build_screens

HOST = "https://www.example.org"


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    _, app = build_screens(tmp_path_factory.mktemp("screens"), allowed_embed_origins=[HOST])
    with TestClient(app) as client:  # runs the lifespan: gradio's queue starts
        yield client


@pytest.mark.parametrize("path", ["/kiosk/", "/widget/", "/widget/?lang=de"])
def test_the_screens_are_served_with_analytics_off_and_nothing_from_elsewhere(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    page = response.text
    assert "fa-" in page and '"analytics_enabled":false' in page.replace(" ", "")
    for outside in ("fonts.googleapis", "cdn.jsdelivr", "unpkg.com", "huggingface.co/spaces", "gradio.s3"):
        assert outside not in page


@pytest.mark.parametrize("path", ["/kiosk/", "/widget/", "/widget/embed.js", "/api/ready"])
def test_every_screen_carries_the_security_headers_with_the_allowed_hosts_as_frame_ancestors(
    client: TestClient, path: str
) -> None:
    headers = client.get(path).headers
    assert f"frame-ancestors 'self' {HOST}" in headers["content-security-policy"]
    assert "unsafe-eval" not in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff" and headers["referrer-policy"] == "no-referrer"
    assert "x-frame-options" not in headers  # it would forbid the allowed hosts


def test_without_allowed_hosts_only_the_app_itself_may_frame_the_widget(tmp_path: Path) -> None:
    _, app = build_screens(tmp_path)
    headers = TestClient(app).get("/widget/").headers
    assert headers["content-security-policy"].endswith("frame-ancestors 'self'")
    assert headers["x-frame-options"] == "SAMEORIGIN"


def test_the_embed_script_is_served_as_javascript(client: TestClient) -> None:
    response = client.get("/widget/embed.js")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/javascript")  # nosniff refuses anything else
    script = response.text
    assert "document.currentScript" in script and '"/widget/?' in script and "documentElement.lang" in script
    sandbox = re.search(r'setAttribute\("sandbox", "([^"]*)"\)', script)
    assert sandbox and "allow-scripts" in sandbox.group(1) and "allow-top-navigation" not in sandbox.group(1)


def test_screens_apply_the_per_client_rate_limit() -> None:
    limiter = ScreenLimiter(RateLimiter(2))
    visitor, other = SimpleNamespace(client=SimpleNamespace(host="10.0.0.1")), SimpleNamespace(client=None)
    assert limiter.allows(visitor) and limiter.allows(visitor) and not limiter.allows(visitor)  # type: ignore[arg-type]
    assert limiter.allows(other)  # type: ignore[arg-type]
    assert all(ScreenLimiter(RateLimiter(0)).allows(visitor) for _ in range(100))  # type: ignore[arg-type]


@pytest.mark.parametrize("build", [build_kiosk, build_widget])
def test_each_screen_has_one_load_event_and_no_public_endpoint(tmp_path: Path, build: Any) -> None:
    # A second load event (a gr.State factory makes one) races the screen's own: the widget then lost its language.
    assistant, _ = build_screens(tmp_path)
    fns = list(build(assistant, assistant.settings).fns.values())
    assert [fn.name for fn in fns if any(event == "load" for _, event in fn.targets)] == ["start"]
    assert {fn.api_visibility for fn in fns} == {"private"}


def test_home_leads_to_the_kiosk(client: TestClient) -> None:
    response = client.get("/", follow_redirects=False)
    assert response.status_code == 307 and response.headers["location"].startswith("/kiosk/")


PYPROJECT = str(ROOT / "pyproject.toml")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/kiosk/gradio_api/upload"),
        ("POST", "/widget/gradio_api/upload"),
        ("POST", "/kiosk/gradio_api/upload?upload_id=x"),
        ("GET", "/kiosk/gradio_api/upload_progress?upload_id=x"),
        ("GET", f"/kiosk/gradio_api/file={PYPROJECT}"),
        ("GET", f"/widget/gradio_api/file={PYPROJECT}"),
        ("GET", f"/kiosk/file={PYPROJECT}"),
        ("GET", f"/kiosk/gradio_api/file/{PYPROJECT}"),
        ("GET", "/kiosk/gradio_api/proxy=https://example.org/"),
        ("GET", "/kiosk/gradio_api/run-history/records"),
        ("GET", "/kiosk/gradio_api/runs"),
        ("GET", "/kiosk/monitoring"),
        ("GET", "/kiosk/gradio_api/mcp/sse"),
        ("POST", "/kiosk/gradio_api/run/predict"),
        ("POST", "/kiosk/gradio_api/call/v2/predict"),
        ("POST", "/kiosk/gradio_api/process_recording"),
        ("GET", "/kiosk/gradio_api/openapi.json"),
        ("GET", "/kiosk/gradio_api/info"),
        ("GET", "/kiosk/assets/../../../pyproject.toml"),
        ("GET", "/kiosk/static/%2e%2e/%2e%2e/%2e%2e/%2e%2e/pyproject.toml"),
        ("GET", "/gradio_api/upload"),
        ("GET", f"/file={PYPROJECT}"),
    ],
)
def test_no_upload_or_file_route_is_reachable(client: TestClient, method: str, path: str) -> None:
    response = client.request(method, path, files={"files": ("x.txt", b"hello")} if method == "POST" else None)
    assert response.status_code in (404, 405), (path, response.status_code)
    assert "fair-assistant" not in response.text and "[build-system]" not in response.text


def test_the_page_s_own_assets_still_load(client: TestClient) -> None:
    page = client.get("/kiosk/").text
    css = client.get("/kiosk/theme.css")
    assert css.status_code == 200
    asset = page.split('src="./assets/', 1)[1].split('"', 1)[0] if 'src="./assets/' in page else None
    assert asset is None or client.get(f"/kiosk/assets/{asset}").status_code == 200


def test_serve_runs_the_kiosk_the_widget_and_the_api_in_one_app(
    tmp_path: Path, corpus: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    for name, value in {"EMBEDDER": "fake", "LLM_BACKEND": "fake", "KNOWLEDGE_DIR": str(corpus)}.items():
        monkeypatch.setenv(f"ASSISTANT_{name}", value)
    monkeypatch.setenv("ASSISTANT_CONFIG", str(tmp_path / "none.toml"))
    served: dict[str, int] = {}

    def fake_run(app: FastAPI, **options: object) -> None:  # the edge: no real socket in this test
        with TestClient(app) as client:
            deadline = time.monotonic() + 10
            while client.get("/api/ready").status_code != 200:
                assert time.monotonic() < deadline
                time.sleep(0.02)
            for path in ("/kiosk/", "/widget/", "/widget/embed.js", "/api/docs"):
                served[path] = client.get(path).status_code

    monkeypatch.setattr(uvicorn, "run", fake_run)
    try:
        assert cli.main(["serve"]) == 0
    finally:
        logging.getLogger("assistant").setLevel(logging.NOTSET)
    assert served == {"/kiosk/": 200, "/widget/": 200, "/widget/embed.js": 200, "/api/docs": 200}
    assert "http://127.0.0.1:7860/kiosk/" in capsys.readouterr().out


def test_a_kiosk_thumb_pressed_after_the_idle_time_clears_the_screen_and_rates_nothing(
    settings: Any, corpus: Path
) -> None:
    from assistant.app import build_assistant
    from assistant.chat_models import FakeChatModel
    from assistant.embedders import FakeEmbedder
    from assistant.store import MemoryStore
    from assistant.ui.common import rater
    from assistant.ui.conversation import Conversation, stream_answer
    from tests.screens_support import scripted_reply

    assistant = build_assistant(
        settings, embedder=FakeEmbedder(), store=MemoryStore(), chat=FakeChatModel([scripted_reply])
    )
    assistant.ingest([corpus], progress=False)
    conv = Conversation(language="en")
    list(stream_answer(assistant, conv, "When was IMTS first held?", "en", "kiosk"))
    key = conv.exchanges[0].key
    rate = rater(assistant, "kiosk", idle_s=90)
    conv.last_active -= 91  # the visitor left; the page's timer did not run
    _, html, field = rate(conv, f"{key}:down")
    assert conv.exchanges == [] and "fa-turn" not in html and field == ""
    assert assistant.recorder is not None
    assert [r.rating for r in assistant.recorder.store().rows(datetime(2000, 1, 1))] == [None]
    list(stream_answer(assistant, conv, "When was IMTS first held?", "en", "kiosk"))
    _, html, _ = rate(conv, f"{conv.exchanges[0].key}:up")  # in time: stored and thanked
    assert "Thanks for your feedback" in html
    assert sorted(str(r.rating) for r in assistant.recorder.store().rows(datetime(2000, 1, 1))) == ["None", "up"]
