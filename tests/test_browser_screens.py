"""The screens in a real browser: Debian's chromium driven by Playwright (no browser download), the app in this
process with the fake embedder and a scripted chat model. Screenshots go to test-artifacts/screenshots/.

axe-core (bundled with axe-playwright-python) checks the kiosk and the widget; no rule is switched off.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from assistant.app import Assistant
from tests.conftest import ROOT, free_port
from tests.screens_support import ARGS, CHROMIUM, GRIP_SITE, IMTS_SITE, build_screens, host_page, serving

pytestmark = pytest.mark.browser

SHOTS = ROOT / "test-artifacts" / "screenshots"
WAIT = 30_000  # ms; the first page of a fresh chromium on a busy 2-core machine takes a while
GRIP_DE = "Was entwickelt die GRIP GmbH?"
IMTS_EN = "When was IMTS first held?"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.fail("chromium is missing — `apt-get install -y chromium` (make setup does it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def host_ports() -> dict[str, int]:
    return {"allowed": free_port(), "other": free_port()}


@pytest.fixture(scope="module")
def screens(tmp_path_factory: pytest.TempPathFactory, host_ports: dict[str, int]) -> Iterator[tuple[Assistant, str]]:
    allowed = f"http://127.0.0.1:{host_ports['allowed']}"
    assistant, app = build_screens(
        tmp_path_factory.mktemp("screens"), delay_s=0.08, plant=True, allowed_embed_origins=[allowed]
    )
    with serving(app) as url:
        yield assistant, url


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1920, "height": 1080})
    page = context.new_page()
    page.dialogs = []  # type: ignore[attr-defined]
    page.on("dialog", lambda d: (page.dialogs.append(d.message), d.dismiss()))  # type: ignore[attr-defined]
    page.failed = []  # type: ignore[attr-defined]
    page.on("response", lambda r: r.status >= 400 and page.failed.append(f"{r.status} {r.url}"))  # type: ignore[attr-defined]
    yield page
    context.close()


def shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"))


def open_kiosk(page: Any, url: str) -> None:
    page.goto(f"{url}/", wait_until="load")
    page.wait_for_selector("#fa-kiosk-question textarea", timeout=WAIT)
    page.wait_for_selector(".fa-conv", state="attached", timeout=WAIT)
    page.wait_for_selector("#fa-lang-en.primary", timeout=WAIT)


def ask_kiosk(page: Any, question: str, turn: int) -> Any:
    page.fill("#fa-kiosk-question textarea", question)
    page.click("#fa-kiosk-send")
    page.wait_for_selector(f".fa-turn >> nth={turn}", timeout=WAIT)
    page.wait_for_selector(f".fa-turn.fa-done >> nth={turn}", timeout=WAIT)
    return page.locator(".fa-turn").nth(turn)


def serious(page: Any) -> list[str]:
    """axe-core's serious and critical violations on the page as it is now."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]


# --- kiosk --------------------------------------------------------------------------------------------------


def test_kiosk_answers_in_german_with_a_source_chip_whose_card_shows_a_qr_code(
    page: Any, screens: tuple[Assistant, str]
) -> None:
    _, url = screens
    open_kiosk(page, url)
    assert page.locator(".fa-suggestion").count() == 6 and page.locator("#fa-lang-en.primary").count() == 1
    assert serious(page) == []
    shot(page, "kiosk-attract")

    page.click("#fa-lang-de")
    page.wait_for_selector("#fa-kiosk-header h1:has-text('Fragen Sie die Dortmunder Delegation')", timeout=WAIT)
    assert page.locator("#fa-kiosk-send").inner_text().strip() == "Fragen"
    page.fill("#fa-kiosk-question textarea", GRIP_DE)
    page.click("#fa-kiosk-send")
    page.wait_for_selector(".fa-turn.fa-streaming", timeout=WAIT)  # seen while it streams
    partial = page.locator(".fa-turn .fa-a .fa-text").inner_text()
    page.wait_for_selector(".fa-turn.fa-done", timeout=WAIT)
    answer = page.locator(".fa-turn .fa-a .fa-text").inner_text()
    assert len(partial) < len(answer) and answer.startswith("Die GRIP GmbH aus Dortmund entwickelt")
    assert page.evaluate("document.documentElement.lang") == "de"
    page.wait_for_function("document.getElementById('fa-live').textContent.includes('Schnellwechsel')")
    assert page.locator("#fa-live").get_attribute("aria-live") == "polite"  # announced to screen readers

    chip = page.locator(".fa-chip summary").first
    assert re.match(r"1\s+GRIP GmbH", chip.inner_text())
    before = page.url
    chip.focus()
    page.keyboard.press("Enter")  # keyboard-operable
    card = page.locator(".fa-chip[open] .fa-card")
    card.wait_for(state="visible", timeout=WAIT)
    assert card.locator("svg.fa-qr-code path").count() >= 1 and card.locator("svg.fa-qr-code").is_visible()
    assert GRIP_SITE in card.inner_text() and "GRIP GmbH" in card.inner_text()
    assert card.locator("a").count() == 0 and page.url == before  # the website is text, never a link
    assert serious(page) == []
    shot(page, "kiosk-answer-card")
    page.keyboard.press("Escape")
    card.wait_for(state="hidden", timeout=WAIT)
    assert page.url == before and page.dialogs == [] and page.failed == []


def test_kiosk_switches_to_english_texts_and_answers(page: Any, screens: tuple[Assistant, str]) -> None:
    _, url = screens
    open_kiosk(page, url)
    page.click("#fa-lang-de")
    ask_kiosk(page, GRIP_DE, 0)
    page.click("#fa-lang-en")
    page.wait_for_selector("#fa-kiosk-header h1:has-text('Ask the Dortmund delegation')", timeout=WAIT)
    assert page.locator("#fa-kiosk-send").inner_text().strip() == "Ask"
    assert page.locator("#fa-kiosk-question textarea").get_attribute("placeholder") == "Type your question …"
    assert page.locator("#fa-lang-en.primary").count() == 1
    page.fill("#fa-kiosk-question textarea", "Wann fand die erste IMTS statt?")  # German: English is forced
    page.press("#fa-kiosk-question textarea", "Enter")  # the keyboard sends it
    page.wait_for_selector(".fa-turn.fa-done >> nth=1", timeout=WAIT)
    turn = page.locator(".fa-turn").nth(1)
    assert turn.get_attribute("lang") == "en"
    assert turn.locator(".fa-a .fa-text").inner_text().startswith("IMTS was first held in Cleveland")
    assert IMTS_SITE in (turn.locator(".fa-card").text_content() or "")
    assert page.evaluate("document.documentElement.lang") == "en"
    shot(page, "kiosk-english")


def test_kiosk_shows_the_queue_while_another_answer_is_generated(page: Any, screens: tuple[Assistant, str]) -> None:
    assistant, url = screens
    open_kiosk(page, url)
    with assistant.answerer._slot():  # another visitor's answer holds the one generation slot
        page.fill("#fa-kiosk-question textarea", IMTS_EN)
        page.click("#fa-kiosk-send")
        queued = page.locator(".fa-turn.fa-queued")
        queued.wait_for(timeout=WAIT)
        assert "You are in the queue: 1 question(s) ahead of yours" in queued.inner_text()
        shot(page, "kiosk-queue")
    page.wait_for_selector(".fa-turn.fa-done", timeout=WAIT)


def test_kiosk_idle_timeout_counts_down_then_clears_for_the_next_visitor(
    browser: Any, tmp_path: Path, page: Any
) -> None:
    assistant, app = build_screens(tmp_path, kiosk_idle_s=6, kiosk_countdown_s=3)
    with serving(app) as url:
        open_kiosk(page, url)
        page.click("#fa-lang-de")
        ask_kiosk(page, GRIP_DE, 0)
        page.fill("#fa-kiosk-question textarea", "halb getippt")
        overlay = page.locator("#fa-idle")
        overlay.wait_for(state="visible", timeout=WAIT)
        assert re.search(r"Das Gespräch wird in [123] Sekunden gelöscht", overlay.inner_text())
        page.click("#fa-idle-stay")  # "keep asking": the conversation stays
        assert overlay.is_hidden() and page.locator(".fa-turn").count() == 1
        overlay.wait_for(state="visible", timeout=WAIT)
        shot(page, "kiosk-idle-countdown")
        page.wait_for_selector(".fa-turn", state="detached", timeout=WAIT)
        page.wait_for_selector("#fa-attract .fa-suggestion", state="visible", timeout=WAIT)
        page.wait_for_selector("#fa-kiosk-header h1:has-text('Ask the Dortmund delegation')", timeout=WAIT)
        assert page.locator("#fa-kiosk-question textarea").input_value() == ""
        assert overlay.is_hidden()
        shot(page, "kiosk-after-reset")

        calls = len(assistant.answerer.chat.calls)  # type: ignore[union-attr]
        ask_kiosk(page, "And where was it held?", 0)  # a follow-up: it must not lean on the last visitor
        (user,) = [m.content for m in assistant.answerer.chat.calls[calls] if m.role == "user"]  # type: ignore[union-attr]
        assert GRIP_DE not in user and "question is about" not in user


# --- the planted document -----------------------------------------------------------------------------------


def test_markup_from_documents_and_the_model_renders_inert(page: Any, screens: tuple[Assistant, str]) -> None:
    _, url = screens
    open_kiosk(page, url)
    page.click("#fa-lang-de")
    turn = ask_kiosk(page, "Was baut die Planted Robotics GmbH?", 0)
    page.locator(".fa-chip summary", has_text="Planted").click()
    text = page.locator(".fa-conv").inner_text()
    assert "<script>alert('model')</script>" in text and "<img src=x onerror=alert('model')>" in text
    assert "<img src=x onerror=alert('title')>" in text and "<script>alert('organisation')</script>" in text
    assert "<script>alert('document')</script>" in text  # the snippet, as text
    conv = page.locator("#fa-kiosk-conversation")
    assert conv.locator("script, img, iframe, object, [onerror], [onclick], a[href^='javascript']").count() == 0
    assert "Keine Website angegeben." in turn.inner_text()  # its javascript: website is no link, no QR code
    page.wait_for_timeout(500)
    assert page.dialogs == []
    shot(page, "planted-inert")


# --- widget ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("viewport", [(1280, 800), (375, 667)], ids=["desktop", "phone"])
def test_widget_on_another_site_answers_with_source_links(
    browser: Any, screens: tuple[Assistant, str], host_ports: dict[str, int], viewport: tuple[int, int]
) -> None:
    _, url = screens
    context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]}, is_mobile=viewport[0] < 500)
    page = context.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    with serving(host_page(url), host_ports["allowed"]) as host:
        page.goto(f"{host}/", wait_until="load")
        launcher = page.locator("#fair-assistant-launcher")
        launcher.wait_for(timeout=WAIT)
        assert launcher.inner_text() == "Fragen zur Dortmunder Delegation"  # the page's lang="de"
        launcher.click()
        frame = page.frame_locator("#fair-assistant-frame")
        frame.locator("#fa-widget-question textarea").wait_for(timeout=WAIT)
        frame.locator("#fa-widget-header h1:has-text('Fragen zur Dortmunder Delegation')").wait_for(timeout=WAIT)
        frame.locator("#fa-widget-question textarea").fill(GRIP_DE)
        frame.locator("#fa-widget-send").click()
        frame.locator(".fa-turn.fa-done").wait_for(timeout=WAIT)
        link = frame.locator(".fa-links a").first
        assert link.get_attribute("href") == GRIP_SITE and link.get_attribute("target") == "_blank"
        assert set((link.get_attribute("rel") or "").split()) >= {"noopener", "noreferrer"}
        box = page.locator("#fair-assistant-frame").bounding_box()
        assert box is not None and box["width"] <= viewport[0] and box["height"] <= viewport[1]
        widget = next(f for f in page.frames if "/widget/" in f.url)
        assert "lang=de" in widget.url and widget.evaluate("document.documentElement.lang") == "de"
        assert widget.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")  # no sideways scroll
        send = frame.locator("#fa-widget-send").bounding_box()
        assert send is not None and send["x"] + send["width"] <= viewport[0]
        shot(page, f"widget-{'phone' if viewport[0] < 500 else 'desktop'}")
        assert page.url == f"{host}/" and dialogs == []
    context.close()


def test_widget_is_refused_by_a_site_not_on_the_allow_list(
    page: Any, screens: tuple[Assistant, str], host_ports: dict[str, int]
) -> None:
    _, url = screens
    with serving(host_page(url), host_ports["other"]) as host:
        page.goto(f"{host}/", wait_until="load")
        page.locator("#fair-assistant-launcher").click()
        page.wait_for_selector("#fair-assistant-frame", timeout=WAIT)
        page.wait_for_timeout(3000)
        widget = [f for f in page.frames if f != page.main_frame]
        assert widget and all(f.locator("#fa-widget-question").count() == 0 for f in widget)


def test_widget_alone_without_persistence_across_page_loads(page: Any, screens: tuple[Assistant, str]) -> None:
    _, url = screens
    page.set_viewport_size({"width": 375, "height": 667})
    page.goto(f"{url}/widget/?lang=en", wait_until="load")
    page.wait_for_selector("#fa-widget-question textarea", timeout=WAIT)
    page.fill("#fa-widget-question textarea", IMTS_EN)
    page.click("#fa-widget-send")
    page.wait_for_selector(".fa-turn.fa-done", timeout=WAIT)
    assert page.locator(".fa-links a").first.get_attribute("href") == IMTS_SITE
    assert serious(page) == []
    page.reload(wait_until="load")
    page.wait_for_selector("#fa-widget-question textarea", timeout=WAIT)
    page.wait_for_selector(".fa-conv", state="attached", timeout=WAIT)
    assert page.locator(".fa-turn").count() == 0
    assert page.evaluate("localStorage.length + sessionStorage.length") == 0
    assert serious(page) == []
