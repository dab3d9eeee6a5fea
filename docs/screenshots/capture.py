"""Take the README's screenshots of the kiosk and the widget with real content.

    .venv/bin/python docs/screenshots/capture.py

Uses the real embedder from ./models and the index in ./data/index (run `assistant ingest` first), without a chat
model (llm_backend "none": the answers are quotes from the passages, so no model writes them), Debian's
chromium, and the demo host page from examples/ served from a second port.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from assistant.api import create_app, warm_up  # noqa: E402
from assistant.app import build_assistant  # noqa: E402
from assistant.settings import Settings  # noqa: E402
from assistant.ui import mount_screens  # noqa: E402
from tests.conftest import free_port  # noqa: E402
from tests.screens_support import ARGS, CHROMIUM, host_page, serving  # noqa: E402

WAIT = 60_000

OUT = Path(__file__).resolve().parent


def main() -> None:
    from playwright.sync_api import sync_playwright

    host_port = free_port()
    settings = Settings(
        llm_backend="none",
        torch_threads=1,
        models_dir=ROOT / "models",
        index_dir=ROOT / "data" / "index",
        allowed_embed_origins=[f"http://127.0.0.1:{host_port}"],
    )
    assistant = build_assistant(settings)
    app = mount_screens(create_app(assistant, settings), assistant, settings)
    warm_up(app, assistant)
    with serving(app) as url, serving(host_page(url), host_port) as host, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        page = browser.new_page(viewport={"width": 1920, "height": 1080})
        page.goto(f"{url}/", wait_until="load")
        page.wait_for_selector("#fa-lang-en.primary", timeout=WAIT)
        page.screenshot(path=str(OUT / "kiosk-attract.png"))
        page.click("#fa-lang-de")
        page.fill("#fa-kiosk-question textarea", "Wann hat Borussia Dortmund sein Büro in New York eröffnet?")
        page.click("#fa-kiosk-send")
        page.wait_for_selector(".fa-turn.fa-done", timeout=120_000)
        page.locator(".fa-chip summary").first.click()
        page.wait_for_selector(".fa-chip[open] svg", timeout=WAIT)
        page.screenshot(path=str(OUT / "kiosk-answer.png"))

        phone = browser.new_page(viewport={"width": 375, "height": 667}, is_mobile=True)
        phone.goto(f"{host}/", wait_until="load")
        phone.click("#fair-assistant-launcher")
        frame = phone.frame_locator("#fair-assistant-frame")
        frame.locator("#fa-widget-question textarea").fill("Wann wurde die TU Dortmund gegründet?")
        frame.locator("#fa-widget-send").click()
        frame.locator(".fa-turn.fa-done").wait_for(timeout=120_000)
        phone.screenshot(path=str(OUT / "widget-phone.png"))
        browser.close()
    print(f"screenshots in {OUT}")


if __name__ == "__main__":
    main()
