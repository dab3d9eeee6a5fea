"""The screens on a real uvicorn server in this process, with the fake embedder and a scripted chat model.

Shared by the screen tests and the browser tests (and usable by hand: ``python -m tests.screens_support``).
"""

from __future__ import annotations

import re
import shutil
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import uvicorn
from fastapi import FastAPI
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

from assistant import prompts
from assistant.api import create_app, warm_up
from assistant.app import Assistant, build_assistant
from assistant.chat_models import FakeChatModel, Message
from assistant.embedders import FakeEmbedder
from assistant.settings import Settings
from assistant.store import MemoryStore
from assistant.ui import mount_screens
from tests.conftest import ROOT, free_port, source_number, write_corpus

PLANTED = """---
id: planted
title: "Planted <img src=x onerror=alert('title')> Robotics"
name: "Planted <script>alert('organisation')</script> GmbH"
website: "javascript:alert('website')"
language: de
---
# Planted Robotics

## Überblick
Die Planted Robotics GmbH baut Greifer <script>alert('document')</script> und <img src=x onerror=alert('image')> Sensoren in Dortmund-Hörde.
"""

CHROMIUM = Path("/usr/bin/chromium")  # Debian's; Playwright never downloads a browser here
ARGS = [  # as root, headless, nothing calling home
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
GRIP_SITE = "https://grip.example/"
IMTS_SITE = "https://imts.example/history"
GRIP_DE = "Die GRIP GmbH aus Dortmund entwickelt Schnellwechsel- und Verbindungssysteme für Roboter"
IMTS_EN = "IMTS was first held in Cleveland, Ohio, in 1927"


def scripted_reply(messages: Sequence[Message]) -> str:
    """A grounded answer citing the passage that holds the fact, in the asked language; else the refusal.

    The planted document is echoed back with its markup, as a model repeating a hostile passage would.
    """
    user = messages[-1].content if messages and messages[-1].role == "user" else ""
    system = next((m.content for m in messages if m.role == "system"), "")
    if not system or not user.startswith(("Sources:", "Quellen:")):
        return "Hi"  # the warm-up (after the worked example, a bare "Hi")
    german = "Regeln:" in system  # the German instructions
    question = re.findall(r"^(?:Frage|Question): (.*)$", user, re.M)[-1].lower()
    if "grip" in question and german:
        return f"{GRIP_DE} [{source_number(messages, 'Schnellwechsel')}]."
    if "imts" in question and not german:
        return f"{IMTS_EN} [{source_number(messages, '1927')}]."
    if "planted" in question:
        n = source_number(messages, "Greifer")
        return f"Die Planted Robotics GmbH baut Greifer <script>alert('model')</script> <img src=x onerror=alert('model')> [{n}]."
    return prompts.text("refusal", "de" if german else "en")


def build_screens(tmp: Path, delay_s: float = 0.03, plant: bool = False, **overrides: Any) -> tuple[Assistant, FastAPI]:
    """The whole app (API and screens) over the test corpus, warmed up; the fair is knowledge/'s (its event.toml
    beside the corpus, as an organiser puts it)."""
    corpus = write_corpus(tmp)
    shutil.copy(ROOT / "knowledge" / "event.toml", corpus / "event.toml")
    settings = Settings(
        embedder="fake",
        index_dir=tmp / "index",
        models_dir=tmp / "models",
        knowledge_dir=corpus,
        rate_limit_per_minute=0,
        _env_file=None,  # type: ignore[call-arg]
    ).with_overrides(**overrides)
    chat = FakeChatModel([scripted_reply], delay_s=delay_s)
    assistant = build_assistant(settings, embedder=FakeEmbedder(), store=MemoryStore(), chat=chat)
    for path, website in ((corpus / "orgs" / "grip.de.md", GRIP_SITE), (corpus / "imts-2024.en.md", IMTS_SITE)):
        path.write_text(path.read_text(encoding="utf-8").replace("\nlanguage:", f"\nwebsite: {website}\nlanguage:", 1))
    if plant:
        (corpus / "planted.de.md").write_text(PLANTED, encoding="utf-8")
    assistant.ingest([corpus], progress=False)
    app = mount_screens(create_app(assistant, settings), assistant, settings)
    warm_up(app, assistant)
    chat.calls.clear()
    return assistant, app


@contextmanager
def serving(app: Any, port: int | None = None, **options: Any) -> Iterator[str]:
    """Any ASGI app on a real uvicorn server on loopback, in a thread (lifespan on: gradio's queue starts);
    ``options``: more of uvicorn's (those `assistant serve` passes, say)."""
    port = port or free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, **{"log_level": "warning", **options, "host": "127.0.0.1", "port": port})
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


def host_page(widget_url: str) -> Starlette:
    """The demo host page from examples/, its snippet pointed at ``widget_url``."""
    html = (ROOT / "examples" / "widget-demo.html").read_text(encoding="utf-8")
    assert "http://127.0.0.1:7860/widget/embed.js" in html
    html = html.replace("http://127.0.0.1:7860", widget_url)

    async def page(request: Request) -> HTMLResponse:
        return HTMLResponse(html)

    return Starlette(routes=[Route("/", page)])


if __name__ == "__main__":  # a local look at the screens with the fakes
    import tempfile

    _, app = build_screens(Path(tempfile.mkdtemp()), plant=True)
    with serving(app, 7861) as url:
        print(f"{url}/kiosk/  {url}/widget/?lang=de  (Ctrl-C stops)")
        while True:
            time.sleep(1)
