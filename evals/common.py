"""Shared bits of the evaluation scripts: run metadata and an up-to-date index."""

from __future__ import annotations

import platform
import sys
import time
from pathlib import Path
from typing import Any

from assistant.app import Assistant
from assistant.evaluation.runner import git_commit
from assistant.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
DATASET = ROOT / "evals" / "datasets" / "golden.jsonl"
REPORTS = ROOT / "evals" / "reports"


def run_meta(settings: Settings, **extra: Any) -> dict[str, Any]:
    safe = settings.model_dump(mode="json", exclude={"openai_api_key"})
    return {
        "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "commit": git_commit(ROOT),
        "machine": f"{platform.machine()}, {platform.python_version()}",
        "settings": safe,
        **extra,
    }


def ensure_index(assistant: Assistant) -> None:
    report = assistant.ingest(progress=True)
    print(f"index: {report.summary()}")


def verdict(failures: list[str], check: bool) -> int:
    """Exit status of an evaluation script: 1 below the floors when asked to check, else 0."""
    if failures:
        print("BELOW FLOORS: " + "; ".join(failures), file=sys.stderr)
    return 1 if failures and check else 0


def save_figure(fig: Any, path: Path) -> None:
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    import matplotlib.pyplot as plt

    plt.close(fig)
