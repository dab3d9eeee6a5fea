"""How often the faithfulness judge is right: `python -m evals.judge_accuracy [--dataset F] [--sentences 0 3 ...]`.

The judge is a 1.5B model, so its verdicts are themselves measured, on claims whose truth a person decided
(`evals/datasets/judge.jsonl`: claims taken from real answers of an evaluation run, each with the cited
passages it was judged against and a hand label). For each way of showing the sources (0: the cited passages
whole; N: the N source sentences closest to the claim) it prints accuracy, how many right claims it called
unsupported (false alarms, which pull the faithfulness figure down) and how many wrong claims it let pass
(misses, which flatter it), and writes evals/reports/judge_accuracy.json.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from assistant.app import build_assistant
from assistant.evaluation.judge import LlmJudge
from assistant.evaluation.metrics import wilson_interval
from assistant.settings import Settings

from .common import REPORTS, ROOT, run_meta

DATASET = ROOT / "evals" / "datasets" / "judge.jsonl"


def load(path: Path) -> list[dict[str, Any]]:
    items = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        item = json.loads(line)
        missing = {"id", "claim", "sources", "supported"} - set(item)
        if missing:
            raise SystemExit(f"{path}:{n}: missing {sorted(missing)}")
        items.append(item)
    return items


def score(labels: list[bool], verdicts: list[bool | None]) -> dict[str, Any]:
    """Accuracy over all claims (an unclear verdict counts as wrong); false alarms among the right claims,
    misses among the wrong ones."""
    n = len(labels)
    right = sum(v is t for t, v in zip(labels, verdicts, strict=True))
    true_claims = [v for t, v in zip(labels, verdicts, strict=True) if t]
    false_claims = [v for t, v in zip(labels, verdicts, strict=True) if not t]
    alarms = sum(v is False for v in true_claims)
    misses = sum(v is True for v in false_claims)
    return {
        "accuracy": right / n if n else float("nan"),
        "accuracy_ci95": wilson_interval(right, n),
        "false_alarms": alarms,
        "right_claims": len(true_claims),
        "misses": misses,
        "wrong_claims": len(false_claims),
        "unclear": sum(v is None for v in verdicts),
        "n": n,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", type=Path, default=DATASET)
    parser.add_argument("--sentences", type=int, nargs="+", default=[0, 3], help="0 = whole passages.")
    parser.add_argument(
        "--prompts", nargs="+", default=["judge", "judge_rubric"], help="Judge prompt files to compare."
    )
    parser.add_argument("--report", type=Path, default=REPORTS / "judge_accuracy.json")
    args = parser.parse_args(argv)

    from tqdm import tqdm

    items = load(args.dataset)
    settings = Settings()
    assistant = build_assistant(settings)
    chat = assistant.answerer.chat
    if chat is None:
        raise SystemExit("the judge needs a chat model: llm_backend is 'none'")
    labels = [bool(i["supported"]) for i in items]
    results: dict[str, Any] = {}
    for prompt in args.prompts:
        for n in args.sentences:
            judge = (
                LlmJudge(chat, prompt=prompt)
                if n <= 0
                else LlmJudge(chat, embedder=assistant.embedder, evidence_sentences=n, prompt=prompt)
            )
            name = f"{prompt}, {'whole' if n <= 0 else f'{n} sentences'}"
            verdicts = []
            for item in tqdm(items, desc=f"Judging ({name})", unit="claim", file=sys.stderr):
                verdicts.append(judge.verdict(item["claim"], judge.evidence(item["claim"], item["sources"])))
            row = score(labels, verdicts)
            row["judge"] = judge.name
            row["wrong"] = [
                {"id": i["id"], "claim": i["claim"], "label": t, "verdict": v}
                for i, t, v in zip(items, labels, verdicts, strict=True)
                if v is not t
            ]
            results[name] = row

    print(f"\n{len(items)} labelled claims ({sum(labels)} right, {len(labels) - sum(labels)} wrong)")
    print(f"{'judge, evidence':<26}{'accuracy':>9}  {'95% CI':<14}{'false alarms':>14}{'misses':>10}{'unclear':>9}")
    for name, row in results.items():
        lo, hi = row["accuracy_ci95"]
        print(
            f"{name:<26}{row['accuracy']:>9.3f}  [{lo:.2f}, {hi:.2f}]  "
            f"{row['false_alarms']:>6}/{row['right_claims']:<7}{row['misses']:>4}/{row['wrong_claims']:<5}"
            f"{row['unclear']:>9}"
        )
    args.report.parent.mkdir(parents=True, exist_ok=True)
    args.report.write_text(
        json.dumps({"meta": run_meta(settings, dataset=str(args.dataset)), "results": results}, indent=2),
        encoding="utf-8",
    )
    print(f"report: {args.report}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
