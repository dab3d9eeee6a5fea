"""The soak (`python -m evals.bench_soak`), shortened: 10 visitors for 90 s against a real `assistant serve` with the
fake chat model, over SSE and both screens' gradio queues; no error, memory flat, a report and a plot. And its
screen client against the real screens: an answer read, an error shown on the screen counted as one."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx
import pytest

from assistant.evaluation.dataset import Item
from assistant.settings import Settings
from evals import bench_soak
from evals.load_client import Result, Screen, ask_screen
from tests.screens_support import serving

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_a_short_soak_has_no_errors_and_flat_memory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASSISTANT_EMBEDDER", "fake")
    monkeypatch.setenv("ASSISTANT_INDEX_DIR", str(tmp_path / "index"))
    monkeypatch.setenv("ASSISTANT_KNOWLEDGE_DIR", str(ROOT / "knowledge"))
    monkeypatch.setenv("ASSISTANT_CONFIG", str(tmp_path / "none.toml"))
    report = tmp_path / "soak.json"
    argv = ["--backend", "fake", "--minutes", "1.5", "--visitors", "10", "--think", "2", "--max-requests", "60"]
    assert bench_soak.main([*argv, "--timeout", "60", "--ready-timeout", "120", "--report", str(report)]) == 0

    soak = json.loads(report.read_text())["soak"]
    figures, memory = soak["figures"], soak["memory"]
    assert figures["errors"] == 0 and figures["completed"] >= 100
    assert {s: f["completed"] > 10 for s, f in figures["by_surface"].items()} == {
        "api": True,
        "kiosk": True,
        "widget": True,
    }
    assert memory["sampled"] and memory["flat"], memory
    assert [row["minute"] for row in soak["per_minute"]] == [1, 2]
    assert all(row["rss_mb"] and row["ttft_p50_ms"] is not None for row in soak["per_minute"])
    assert report.with_suffix(".png").stat().st_size > 10_000


def _screen_answer(settings: Settings, corpus: Path | None, screen: str) -> Result:
    from assistant.api import create_app
    from assistant.app import build_assistant
    from assistant.chat_models import FakeChatModel
    from assistant.embedders import FakeEmbedder
    from assistant.store import MemoryStore
    from assistant.ui import mount_screens

    settings = settings.with_overrides(rate_limit_per_minute=0)
    assistant = build_assistant(settings, embedder=FakeEmbedder(), store=MemoryStore(), chat=FakeChatModel())
    if corpus is not None:
        assistant.ingest([corpus], progress=False)
    item = Item("q", "When was IMTS first held?", "en", "answerable")

    async def go(url: str) -> Result:
        async with httpx.AsyncClient(timeout=30) as client:
            found = await Screen.find(client, url, screen)
            return await ask_screen(client, found, "s1", item, Result(0, item.id, "en", surface=screen), 30)

    with serving(mount_screens(create_app(assistant, settings), assistant, settings)) as url:
        return asyncio.run(go(url))


@pytest.mark.parametrize("screen", ["kiosk", "widget"])
def test_the_screen_client_reads_an_answer_and_tells_an_error_shown_on_the_screen(
    settings: Settings, corpus: Path, screen: str
) -> None:
    answered = _screen_answer(settings, corpus, screen)
    assert answered.error is None and answered.route == "screen" and answered.status == 200
    assert answered.first_token_ms is not None and answered.first_token_ms <= (answered.total_ms or 0)
    failed = _screen_answer(settings, None, screen)  # nothing indexed: the screen shows its error message
    assert failed.error == "error event: the screen shows the answer as error"
