"""The soak (`python -m evals.bench_soak`), shortened: 10 visitors for 90 s against a real `assistant serve` with the
fake chat model, over SSE and both screens' gradio queues; no error, memory flat, a report and a plot."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evals import bench_soak

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
