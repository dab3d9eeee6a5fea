"""Shared bits of the evaluation scripts: run metadata and an up-to-date index."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assistant.app import Assistant
from assistant.evaluation.runner import git_commit
from assistant.settings import Settings
from assistant.types import Answer, DoneEvent, TokenEvent, Turn

ROOT = Path(__file__).resolve().parent.parent
DATASET = ROOT / "evals" / "datasets" / "golden.jsonl"
REPORTS = ROOT / "evals" / "reports"


# Limits the vector instructions torch, oneDNN, MKL and fbgemm use to AVX2, on a machine that has more: how the
# AVX2 figures (the common kiosk and laptop CPU) are measured here. auto would still see the CPU's bfloat16
# flags, so the format is set to what auto takes on an AVX2 CPU (float32). llama.cpp is compiled for the CPU: its
# AVX2 figures need an AVX2 build on PYTHONPATH (see docs/evaluation.md, "Speed on AVX2").
AVX2_ENV = {
    "ATEN_CPU_CAPABILITY": "avx2",
    "ONEDNN_MAX_CPU_ISA": "AVX2",
    "MKL_ENABLE_INSTRUCTIONS": "AVX2",
    "FBGEMM_ENABLE_INSTRUCTIONS": "AVX2",
    "ASSISTANT_EMBED_DTYPE": "float32",
}
FEATURES = ("avx2", "avx512f", "avx512_bf16", "amx_bf16")


def avx2_limited() -> bool:
    """Whether this process runs under AVX2_ENV's limits."""
    return os.environ.get("ATEN_CPU_CAPABILITY") == AVX2_ENV["ATEN_CPU_CAPABILITY"]


def runs_avx512() -> bool:
    """Whether torch here may use AVX-512: the CPU has it and no AVX2 limit is set (which targets apply)."""
    from assistant.embedders import cpu_flags

    return "avx512f" in cpu_flags() and not avx2_limited()


def rerun_limited(module: str, argv: list[str] | None, env: dict[str, str]) -> int:
    """Run this script again with env added (limits that must be set before torch or llama.cpp load)."""
    again = [sys.executable, "-m", module, *(argv if argv is not None else sys.argv[1:])]
    return subprocess.run(again, env={**os.environ, **env}, check=False).returncode


def rerun_with_avx2_llama(module: str, argv: list[str] | None, llama_path: Path) -> int:
    """Run ``module`` again under AVX2_ENV with the AVX2 llama-cpp-python in ``llama_path`` first on PYTHONPATH;
    exit code 2 and a message saying how to build it when there is none."""
    if not (llama_path / "llama_cpp").is_dir():
        print(f"no AVX2 build of llama-cpp-python in {llama_path}: run `make avx2-llama`", file=sys.stderr)
        return 2
    path = os.pathsep.join(p for p in (str(llama_path), os.environ.get("PYTHONPATH", "")) if p)
    return rerun_limited(module, argv, {**AVX2_ENV, "PYTHONPATH": path})


def cpu_description() -> str:
    """The CPU as a speed figure needs it named: model, cores, the vector features that matter, any AVX2 limit."""
    from assistant.embedders import cpu_flags, cpu_info

    model = cpu_info().get("model name") or platform.processor() or platform.machine()
    flags = cpu_flags()
    have = [f.upper() for f in FEATURES if f in flags] or ["no AVX2"]
    text = f"{model}, {os.cpu_count()} CPUs, {' + '.join(have)}"
    if avx2_limited():
        text += " (limited to AVX2 for torch, oneDNN, MKL and fbgemm)"
    return text


def llama_build() -> str:
    """Which llama.cpp library this process loads, and the CPU features it was built for."""
    try:
        import llama_cpp
    except ImportError:
        return "llama-cpp-python missing"
    info = llama_cpp.llama_print_system_info().decode(errors="replace")
    flags = sorted({p.split("=")[0].split(":")[-1].strip() for p in info.split("|") if p.strip().endswith("= 1")})
    return f"{Path(llama_cpp.__file__).parent} ({', '.join(flags)})"


def run_meta(settings: Settings, **extra: Any) -> dict[str, Any]:
    from assistant.embedders import resolve_dtype

    safe = settings.model_dump(mode="json", exclude={"openai_api_key"})
    return {
        "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "commit": git_commit(ROOT),
        "machine": f"{platform.machine()}, {platform.python_version()}",
        "cpu": cpu_description(),
        "embed_dtype": resolve_dtype(settings.embed_dtype),
        "settings": safe,
        **extra,
    }


@dataclass(frozen=True)
class Timed:
    """One streamed answer as a visitor sees it: the stopwatch runs around the whole stream, retrieval included."""

    answer: Answer
    first_token_ms: float | None
    total_ms: float
    tokens: int


def timed_answer(assistant: Assistant, question: str, history: Sequence[Turn] = ()) -> Timed:
    started = time.perf_counter()
    first: float | None = None
    tokens = 0
    answer: Answer | None = None
    for event in assistant.ask_stream(question, history):
        if isinstance(event, TokenEvent):
            tokens += 1
            if first is None:
                first = (time.perf_counter() - started) * 1000
        elif isinstance(event, DoneEvent):
            answer = event.answer
    assert answer is not None, "an answer stream ends with its DoneEvent"
    return Timed(answer, first, (time.perf_counter() - started) * 1000, tokens)


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
