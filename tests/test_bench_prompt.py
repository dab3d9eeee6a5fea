"""evals.bench_prompt's prompt composition runs the answer path up to the prompt, with fakes, and stops there."""

from __future__ import annotations

from pathlib import Path

from assistant.settings import Settings
from evals.bench_prompt import composition

ROOT = Path(__file__).resolve().parent.parent


def test_the_prompts_of_tune_questions_are_captured_without_generating(tmp_path: Path) -> None:
    settings = Settings(
        embedder="fake",
        llm_backend="fake",
        knowledge_dir=ROOT / "knowledge",
        index_dir=tmp_path / "index",
        models_dir=tmp_path / "models",
        record_questions=False,
        _env_file=None,
    )
    rows = composition(settings, 3)
    assert len(rows) == 3
    assert all(("Question:" in r["user"] or "Frage:" in r["user"]) and "[1]" in r["user"] for r in rows)
