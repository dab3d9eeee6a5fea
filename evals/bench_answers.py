"""Answer speed with the configured chat model: `python -m evals.bench_answers [--questions 20]`.

Streams answers to golden-set questions (both languages, answerable ones first) in one process, after one
warm-up answer, and prints time to first token and whole-answer time, p50 and p95. Targets on 2 cores with
the default local model: first token p50 ≤ 3 s, whole answer p50 ≤ 8 s. Writes
evals/reports/bench_answers.json and a histogram.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from assistant.app import build_assistant
from assistant.evaluation.dataset import load_dataset
from assistant.evaluation.metrics import percentile
from assistant.settings import Settings
from assistant.types import DoneEvent, TokenEvent

from .common import DATASET, REPORTS, ensure_index, run_meta, save_figure

TARGETS = {"first_token_p50_ms": 3000, "total_p50_ms": 8000}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--questions", type=int, default=20)
    parser.add_argument("--report", type=Path, default=REPORTS / "bench_answers.json")
    args = parser.parse_args(argv)

    settings = Settings()
    assistant = build_assistant(settings)
    ensure_index(assistant)
    items = [i for i in load_dataset(DATASET) if i.kind == "answerable"]
    german = [i for i in items if i.language == "de"]
    english = [i for i in items if i.language == "en"]
    chosen = [q for pair in zip(german, english, strict=False) for q in pair][: args.questions]
    assistant.ask("Warm-up: who organised the Dortmund delegation?")

    rows = []
    for item in chosen:
        started = time.perf_counter()
        first = None
        tokens = 0
        for event in assistant.ask_stream(item.question):
            if isinstance(event, TokenEvent):
                tokens += 1
                first = first or (time.perf_counter() - started) * 1000
            elif isinstance(event, DoneEvent):
                answer = event.answer
        total = (time.perf_counter() - started) * 1000
        rows.append(
            {
                "id": item.id,
                "first_token_ms": first,
                "total_ms": total,
                "tokens": tokens,
                "route": answer.route,
                "retrieve_ms": answer.timings["retrieve_ms"],
            }
        )
        print(f"{item.id:<45} first {first or 0:>7.0f} ms  total {total:>7.0f} ms  {answer.route}", flush=True)

    firsts = [r["first_token_ms"] for r in rows if r["first_token_ms"] is not None]
    totals = [r["total_ms"] for r in rows]
    figures = {
        "questions": len(rows),
        "model": assistant.answerer.model_name,
        "first_token_p50_ms": round(percentile(firsts, 50)),
        "first_token_p95_ms": round(percentile(firsts, 95)),
        "total_p50_ms": round(percentile(totals, 50)),
        "total_p95_ms": round(percentile(totals, 95)),
        "retrieve_p50_ms": round(percentile([r["retrieve_ms"] for r in rows], 50), 1),
        "llm_threads": settings.llm_threads,
        "context_passages": settings.context_passages,
    }
    for key, value in figures.items():
        mark = ""
        if key in TARGETS:
            mark = "  ok" if value <= TARGETS[key] else f"  OVER TARGET ({TARGETS[key]})"
        print(f"{key:<22}{value}{mark}")
    args.report.parent.mkdir(parents=True, exist_ok=True)
    args.report.write_text(json.dumps({"meta": run_meta(settings), "figures": figures, "rows": rows}, indent=2))
    _plot(firsts, totals, args.report.with_suffix(".png"))
    print(f"report: {args.report} (+ .png)")
    return 0


def _plot(firsts: list[float], totals: list[float], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 3.2))
    ax.hist([f / 1000 for f in firsts], bins=20, alpha=0.7, label="first token")
    ax.hist([t / 1000 for t in totals], bins=20, alpha=0.7, label="whole answer")
    for x, style in ((3, "--"), (8, ":")):
        ax.axvline(x, color="black", linestyle=style, linewidth=1)
    ax.set_xlabel("seconds (dashed: first-token target, dotted: whole-answer target)")
    ax.set_ylabel("questions")
    ax.legend()
    save_figure(fig, path)


if __name__ == "__main__":
    raise SystemExit(main())
