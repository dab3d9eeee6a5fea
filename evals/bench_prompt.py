"""Where the first token goes: `python -m evals.bench_prompt [--questions 30] [--model FILE.gguf …]`.

The first token of an answer waits for llama.cpp to evaluate the new part of the prompt (the passages and the
question; the system message stays evaluated per language). This prints, on this CPU:
1. the prompt's composition over the golden set's `tune` questions, as the answer path builds it: new tokens per
   question (mean, min, max), of which the passages' titles and titles repeated within one prompt;
2. llama.cpp's prompt speed (tokens/s for 50, 200 and 400 tokens) and generation speed for each GGUF given
   (default: the configured chat model), with the configured threads;
3. what that means for the first token: the mean new tokens over the prompt speed.
Writes evals/reports/bench_prompt.json with the CPU and llama.cpp's build named.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import re
import statistics
import time
from pathlib import Path
from typing import Any

from assistant import answering
from assistant.app import build_assistant
from assistant.chat_backends import resolve_gguf
from assistant.evaluation.dataset import load_dataset
from assistant.settings import Settings

from .common import DATASET, REPORTS, cpu_description, llama_build, run_meta

SIZES = (50, 200, 400)
_TITLE = re.compile(r"^\[\d+\] (.*):$", re.M)


class _Captured(Exception):
    """Raised from the patched ``build_messages`` once the prompt is known: no generation needed."""


def composition(settings: Settings, questions: int) -> list[dict[str, Any]]:
    """The new part of the prompt (the user message) for the first ``questions`` answerable tune items."""
    assistant = build_assistant(settings)
    assistant.ingest(progress=False)
    captured: list[str] = []
    original = answering.build_messages

    def capture(*args: Any, **kwargs: Any) -> Any:
        messages = original(*args, **kwargs)
        captured.append(messages[1].content)
        raise _Captured

    items = [i for i in load_dataset(DATASET) if i.kind == "answerable" and i.split == "tune"][:questions]
    answering.build_messages = capture  # type: ignore[assignment]
    try:
        rows = []
        for item in items:
            captured.clear()
            with contextlib.suppress(_Captured):
                assistant.ask(item.question)
            if captured:
                rows.append({"id": item.id, "user": captured[0]})
        return rows
    finally:
        answering.build_messages = original  # type: ignore[assignment]


def speeds(path: Path, threads: int, context: int) -> dict[str, Any]:
    from llama_cpp import Llama

    llm = Llama(model_path=str(path), n_threads=threads, n_threads_batch=threads, n_ctx=context, verbose=False)
    text = "Die Messe zeigt neue Maschinen, und viele Firmen aus der Region stellen dort aus. " * 60
    tokens = llm.tokenize(text.encode())
    llm.eval(tokens[:20])  # warm-up
    prompt = {}
    for n in SIZES:
        llm.reset()
        started = time.perf_counter()
        llm.eval(tokens[:n])
        prompt[n] = n / (time.perf_counter() - started)
    llm.reset()
    llm.eval(tokens[:50])
    started = time.perf_counter()
    for _ in range(30):
        llm.eval([llm.sample(temp=0.0)])
    generation = 30 / (time.perf_counter() - started)
    llm.close()
    return {"model": path.name, "prompt_tokens_per_s": prompt, "generation_tokens_per_s": generation}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--questions", type=int, default=30)
    parser.add_argument("--model", action="append", type=Path, help="a GGUF file (repeatable)")
    parser.add_argument("--report", type=Path, default=REPORTS / "bench_prompt.json")
    args = parser.parse_args(argv)
    settings = Settings()
    print(f"CPU: {cpu_description()}\nllama.cpp: {llama_build()}")

    from llama_cpp import Llama

    model = resolve_gguf(settings.llm_model, settings.models_dir)
    vocab = Llama(model_path=str(model), vocab_only=True, verbose=False)

    def count(text: str) -> int:
        return len(vocab.tokenize(text.encode(), add_bos=False))

    rows = composition(settings, args.questions)
    for row in rows:
        titles = _TITLE.findall(row["user"])
        row["tokens"] = count(row["user"])
        row["title_tokens"] = sum(count(t) for t in titles)
        row["repeated_title_tokens"] = sum(count(t) for i, t in enumerate(titles) if t in titles[:i])
    tokens = [r["tokens"] for r in rows]
    mean = statistics.mean(tokens)
    print(
        f"prompt, new part, {len(rows)} tune questions: mean {mean:.0f} tokens (min {min(tokens)}, max "
        f"{max(tokens)}); titles {statistics.mean(r['title_tokens'] for r in rows):.0f}, repeated titles "
        f"{statistics.mean(r['repeated_title_tokens'] for r in rows):.0f}"
    )
    models = [Path(m) for m in args.model] if args.model else [model]
    measured = []
    for path in models:
        figures = speeds(path, settings.llm_threads, settings.llm_context_tokens)
        speed = figures["prompt_tokens_per_s"]
        at = speed[200]
        print(
            f"{path.name}: prompt "
            + ", ".join(f"{n} tok {speed[n]:.0f}/s" for n in SIZES)
            + f"; generation {figures['generation_tokens_per_s']:.1f}/s; mean new prompt → about "
            f"{mean / at:.2f} s of prompt evaluation before the first token"
        )
        measured.append(figures)
    args.report.parent.mkdir(parents=True, exist_ok=True)
    report = {
        "meta": run_meta(settings),
        "composition": {"questions": len(rows), "mean_tokens": mean, "rows": rows},
        "models": measured,
    }
    args.report.write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
    print(f"report: {args.report}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
