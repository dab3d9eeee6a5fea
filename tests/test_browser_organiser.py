"""The organiser page and the thumbs under the answers in a real browser: Debian's chromium driven by Playwright, the
app in this process with the fake embedder and a scripted chat model (as test_browser_screens.py). Screenshots go
to test-artifacts/screenshots/; axe-core checks every page with no rule switched off.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from assistant.app import Assistant
from assistant.record import RecordRow
from assistant.record.recorder import quarter_hour, utc_now
from tests.screens_support import build_screens, serving
from tests.test_browser_screens import (  # noqa: F401 (fixtures)
    GRIP_DE,
    IMTS_EN,
    SHOTS,
    WAIT,
    ask_kiosk,
    browser,
    open_kiosk,
    page,
    serious,
    shot,
)
from tests.test_organiser_report import HOSTILE, _gap, _row

pytestmark = pytest.mark.browser

TOKEN = "fair-organisers-only-2031"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Assistant, str]]:
    assistant, app = build_screens(tmp_path_factory.mktemp("organiser"), organiser_token=TOKEN)
    with serving(app) as url:
        yield assistant, url


def _record_of_today(assistant: Assistant) -> None:
    """A fair day's record: unanswered questions (two of them one group), answers rated up and down, one hostile."""
    now = quarter_hour(utc_now())
    at = [now - timedelta(hours=h) for h in range(8)]
    rows = [
        _gap(0, "Where can I park my car?", asked_at=at[5]),
        _gap(1, "Where can I park my car?", asked_at=at[3]),
        _gap(2, "Gibt es WLAN am Stand?", "de", asked_at=at[2], surface="widget"),
        _gap(3, f"Is there a {HOSTILE} shuttle bus?", asked_at=at[1]),
        _row(4, "Who founded GRIP?", asked_at=at[4], rating="down", feedback_reason="incomplete"),
        _row(5, "Was entwickelt die GRIP GmbH?", "de", asked_at=at[6], rating="up", surface="widget"),
        _row(6, "When was IMTS first held?", asked_at=at[7], route="extractive", total_ms=900.0),
    ]
    assert assistant.recorder is not None
    assistant.recorder.store().add_many([_today(r, i) for i, r in enumerate(rows)])


def _today(row: RecordRow, i: int) -> RecordRow:
    values = {name: getattr(row, name) for name in row.__dataclass_fields__}
    return RecordRow(**{**values, "answer_id": f"today-{i}-{row.answer_id}"})


def _rows(assistant: Assistant) -> list[RecordRow]:
    assert assistant.recorder is not None
    return assistant.recorder.store().rows(datetime(2000, 1, 1))


# --- the organiser page ----------------------------------------------------------------------------------------


def test_the_organiser_page_refuses_a_wrong_token_then_shows_the_report_and_its_downloads(
    browser: Any,  # noqa: F811
    served: tuple[Assistant, str],
) -> None:
    assistant, url = served
    _record_of_today(assistant)
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page = context.new_page()  # noqa: F811
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(f"{url}/organiser/", wait_until="load")
    assert page.locator("h1").inner_text() == "Organiser page"
    assert serious(page) == []
    page.get_by_label("Organiser token").fill("not-the-organiser-token")
    page.keyboard.press("Enter")
    alert = page.get_by_role("alert")
    alert.wait_for(timeout=WAIT)
    assert alert.inner_text() == "That is not the organiser token. Please check it and try again."
    assert context.cookies() == [] and serious(page) == []
    shot(page, "organiser-wrong-token")

    page.get_by_label("Organiser token").fill(TOKEN)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Questions the materials could not answer").wait_for(timeout=WAIT)
    (cookie,) = context.cookies()
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and cookie["path"] == "/organiser"
    assert TOKEN not in cookie["value"]
    text = page.locator("main").inner_text()
    assert "Group 1: asked 2 times (en)" in text and "Where can I park my car?" in text
    assert f"Is there a {HOSTILE} shuttle bus?" in text  # the stranger's markup as text
    assert page.locator("main script, main img[src='x'], [onerror]").count() == 0
    assert page.locator("img[alt='Answer speed']").is_visible()  # the plots
    rated_down = page.locator("section", has=page.get_by_role("heading", name="Answers rated down"))
    assert "Who founded GRIP?" in rated_down.inner_text() and "incomplete" in rated_down.inner_text()
    assert serious(page) == []
    page.screenshot(path=str(_shots() / "organiser.png"), full_page=True)
    page.set_viewport_size({"width": 1100, "height": 1250})
    shot(page, "organiser-top")  # docs/screenshots/organiser.png is this one

    with page.expect_download() as csv_download:
        page.get_by_role("link", name="Answers rated down (CSV)").click()
    rows = list(csv.reader(io.StringIO(Path(csv_download.value.path()).read_text(encoding="utf-8"))))
    assert csv_download.value.suggested_filename == "rated-down.csv"
    assert rows[0][3:] == ["question", "answer", "sources", "reason"] and rows[1][3] == "Who founded GRIP?"
    with page.expect_download() as stub_download:
        page.get_by_role("link", name="Markdown stub gap-").first.click()
    stub = Path(stub_download.value.path()).read_text(encoding="utf-8")
    assert stub_download.value.suggested_filename.endswith(".en.md") and "## Where can I park my car?" in stub

    page.get_by_role("button", name="Sign out").click()
    page.get_by_label("Organiser token").wait_for(timeout=WAIT)
    assert dialogs == []
    context.close()


def _shots() -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    return SHOTS


# --- thumbs under the answers ------------------------------------------------------------------------------


def test_kiosk_thumbs_down_and_a_reason_by_keyboard_are_recorded_and_thanked(
    page: Any,  # noqa: F811
    served: tuple[Assistant, str],
) -> None:
    assistant, url = served
    before = {r.answer_id for r in _rows(assistant)}
    open_kiosk(page, url)
    turn = ask_kiosk(page, IMTS_EN, 0)
    down = turn.get_by_role("button", name="Not helpful")
    box = down.bounding_box()
    assert box is not None and box["height"] >= 64 and box["width"] >= 64  # the kiosk's touch targets
    assert turn.get_by_role("button", name="Helpful", exact=True).get_attribute("aria-pressed") == "false"
    down.focus()
    page.keyboard.press("Enter")
    expect(page.locator("#fa-live")).to_have_text("Thanks for your feedback", timeout=WAIT)  # announced
    assert down.get_attribute("aria-pressed") == "true"
    assert page.evaluate("document.activeElement.textContent") == "Not helpful"  # the focus stays on the thumb
    page.keyboard.press("Tab")  # on to the optional reasons
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Not my language"
    page.keyboard.press("Space")
    turn.locator(".fa-rate-not_my_language[aria-pressed='true']").wait_for(timeout=WAIT)
    assert turn.locator("textarea, input").count() == 0  # no free text on the kiosk
    assert serious(page) == []
    shot(page, "kiosk-thumbs")
    (rated,) = [r for r in _rows(assistant) if r.answer_id not in before]  # the visitor's one answer
    assert (rated.question, rated.surface, rated.rating, rated.feedback_reason) == (
        IMTS_EN,
        "kiosk",
        "down",
        "not_my_language",
    )


def test_widget_thumbs_up_by_keyboard_is_recorded_and_thanked_in_german(
    page: Any,  # noqa: F811
    served: tuple[Assistant, str],
) -> None:
    assistant, url = served
    before = {r.answer_id for r in _rows(assistant)}
    page.set_viewport_size({"width": 375, "height": 667})
    page.goto(f"{url}/widget/?lang=de", wait_until="load")
    page.wait_for_selector("#fa-widget-question textarea", timeout=WAIT)
    page.fill("#fa-widget-question textarea", GRIP_DE)
    page.press("#fa-widget-question textarea", "Enter")
    page.wait_for_selector(".fa-turn.fa-done", timeout=WAIT)
    up = page.get_by_role("button", name="Hilfreich", exact=True)
    box = up.bounding_box()
    assert box is not None and box["height"] >= 44
    up.focus()
    page.keyboard.press("Space")
    expect(page.locator("#fa-live")).to_have_text("Danke für Ihr Feedback", timeout=WAIT)  # announced
    assert up.get_attribute("aria-pressed") == "true" and page.locator(".fa-reasons").count() == 0
    assert serious(page) == []
    shot(page, "widget-thumbs")
    (rated,) = [r for r in _rows(assistant) if r.answer_id not in before]
    assert (rated.question, rated.surface, rated.rating, rated.feedback_reason) == (GRIP_DE, "widget", "up", None)
