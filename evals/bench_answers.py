"""Answer speed with the configured chat model: `python -m evals.bench_answers [--questions 20] [--avx2]`.

Streams answers to the golden set's holdout questions (answerable ones, German and English in turn) in one
process, after one warm-up answer, and prints time to first token and whole-answer time, p50 and p95.
Targets on 2 cores with the default local model: first token p50 ≤ 2.0 s and whole answer p50 ≤ 5 s on an
AVX2 CPU, first token p50 ≤ 1.2 s with AVX-512. `--avx2` measures the AVX2 path on a machine that has more:
torch, oneDNN and MKL limited to AVX2, float32 embeddings, and llama.cpp from an AVX2-only build
(`make avx2-llama` puts one in .avx2-llama/; `--llama-path` names another). Writes
evals/reports/bench_answers[-avx2].json and a histogram; the CPU and llama.cpp's build are named in both.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from assistant.app import build_assistant
from assistant.evaluation.dataset import load_dataset
from assistant.evaluation.metrics import percentile
from assistant.settings import Settings

from .common import (
    DATASET,
    REPORTS,
    ROOT,
    avx2_limited,
    cpu_description,
    ensure_index,
    llama_build,
    rerun_with_avx2_llama,
    run_meta,
    runs_avx512,
    save_figure,
    timed_answer,
)

TARGETS_AVX2 = {"first_token_p50_ms": 2000, "total_p50_ms": 5000}
TARGETS_AVX512 = {"first_token_p50_ms": 1200}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--questions", type=int, default=20)
    parser.add_argument("--report", type=Path, default=None)
    parser.add_argument("--avx2", action="store_true", help="measure the AVX2 path (see above)")
    parser.add_argument("--llama-path", type=Path, default=ROOT / ".avx2-llama", help="an AVX2 llama-cpp-python")
    args = parser.parse_args(argv)
    if args.avx2 and not avx2_limited():
        return rerun_with_avx2_llama("evals.bench_answers", argv, args.llama_path)
    targets = TARGETS_AVX512 if runs_avx512() else TARGETS_AVX2
    report = args.report or REPORTS / ("bench_answers-avx2.json" if args.avx2 else "bench_answers.json")
    cpu, llama = cpu_description(), llama_build()
    print(f"CPU: {cpu}\nllama.cpp: {llama}")

    settings = Settings()
    assistant = build_assistant(settings)
    ensure_index(assistant)
    items = [i for i in load_dataset(DATASET) if i.kind == "answerable" and i.split in ("holdout", None)]
    german = [i for i in items if i.language == "de"]
    english = [i for i in items if i.language == "en"]
    chosen = [q for pair in zip(german, english, strict=False) for q in pair][: args.questions]
    assistant.ask("Warm-up: who organised the Dortmund delegation?")

    rows = []
    for item in chosen:
        timed = timed_answer(assistant, item.question)
        answer, first, total, tokens = timed.answer, timed.first_token_ms, timed.total_ms, timed.tokens
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
        if key in targets:
            mark = "  ok" if value <= targets[key] else f"  OVER TARGET ({targets[key]})"
        print(f"{key:<22}{value}{mark}")
    print(f"CPU: {cpu}")
    report.parent.mkdir(parents=True, exist_ok=True)
    meta = run_meta(settings, llama_cpp=llama, targets=targets)
    report.write_text(json.dumps({"meta": meta, "figures": figures, "rows": rows}, indent=2))
    _plot(firsts, totals, report.with_suffix(".png"), targets, cpu)
    print(f"report: {report} (+ .png)")
    return 0


def _plot(firsts: list[float], totals: list[float], path: Path, targets: dict[str, int], cpu: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 3.2))
    ax.hist([f / 1000 for f in firsts], bins=20, alpha=0.7, label="first token")
    ax.hist([t / 1000 for t in totals], bins=20, alpha=0.7, label="whole answer")
    for key, style in (("first_token_p50_ms", "--"), ("total_p50_ms", ":")):
        if key in targets:
            ax.axvline(targets[key] / 1000, color="black", linestyle=style, linewidth=1)
    ax.set_xlabel("seconds (dashed: first-token p50 target, dotted: whole-answer p50 target)")
    ax.set_ylabel("questions")
    ax.set_title(cpu, fontsize=8)
    ax.legend()
    save_figure(fig, path)


if __name__ == "__main__":
    raise SystemExit(main())
