"""Retrieval evaluation on the golden set: `python -m evals.retrieval [--dataset F | --fair DIR] [--check]`.

Prints hit@1, hit@5, MRR and found@5 per cell (question language → document language) and overall, for the
whole set and for each of its parts (tune, holdout), writes evals/reports/retrieval.json and a bar chart, and
with --check exits 1 below the floors. Settings come from assistant.toml and ASSISTANT_* variables as usual, so
`ASSISTANT_LANGUAGE_RANKING=interleave python -m evals.retrieval` measures another ranking.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from assistant.app import build_assistant
from assistant.evaluation.dataset import load_dataset
from assistant.evaluation.retrieval import format_table, run_retrieval_eval, summarise, write_report
from assistant.settings import Settings

from .common import DATASET, REPORTS, ensure_index, run_meta, save_figure, verdict

FLOORS = {"hit@5": 0.95, "mrr": 0.85}


def below_floors(table: dict) -> list[str]:
    return [
        f"{cell}: {metric} {row[metric]:.3f} < {floor}"
        for cell, row in table.items()
        for metric, floor in FLOORS.items()
        if row[metric] < floor
    ]


def plot(table: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cells = list(table)
    fig, ax = plt.subplots(figsize=(8, 3.6))
    width = 0.27
    for i, metric in enumerate(("hit@1", "hit@5", "mrr")):
        ax.bar([x + (i - 1) * width for x in range(len(cells))], [table[c][metric] for c in cells], width, label=metric)
    ax.axhline(FLOORS["hit@5"], color="grey", linestyle="--", linewidth=0.8)
    ax.set_xticks(range(len(cells)), [f"{c}\n(n={table[c]['n']})" for c in cells])
    ax.set_ylim(0, 1.05)
    ax.set_title("Retrieval by cell (question language → document language)")
    ax.legend(loc="lower right", ncol=3)
    save_figure(fig, path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dataset", type=Path, default=DATASET)
    parser.add_argument("--report", type=Path, default=REPORTS / "retrieval.json")
    parser.add_argument("--fair", type=Path, help="Another fair's folder (knowledge/, golden.jsonl): own index.")
    parser.add_argument("--check", action="store_true", help="Exit 1 when a cell is below the floors.")
    args = parser.parse_args(argv)

    settings = Settings()
    if args.fair:
        from assistant.evaluation.runner import fair_settings

        settings, args.dataset = fair_settings(settings, args.fair)
    assistant = build_assistant(settings)
    ensure_index(assistant)
    items = load_dataset(args.dataset)
    results = run_retrieval_eval(items, lambda q, k, lang: assistant.search(q, k=k, language=lang))
    table = summarise(results)
    print(format_table(table))
    for part in sorted({r.split for r in results if r.split}):
        print(f"\n{part}\n" + format_table(summarise([r for r in results if r.split == part])))
    write_report(args.report, table, results, run_meta(settings, dataset=str(args.dataset), floors=FLOORS))
    plot(table, args.report.with_suffix(".png"))
    misses = [r for r in results if r.hit1 < 1]
    for r in misses:
        print(f"  not first: {r.id} [{r.cell}] expected {list(r.expected)}, got {list(r.ranked[:3])}")
    print(f"report: {args.report} (+ .png)")
    return verdict(below_floors(table), args.check)


if __name__ == "__main__":
    raise SystemExit(main())
