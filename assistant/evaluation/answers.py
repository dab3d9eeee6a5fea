"""Answer evaluation on the golden set: correctness, refusals, language, faithfulness, injections, latency.

What each metric can see:
- correctness: every expected fact occurs in the answer in one of its acceptable forms (string match, so a
  correct paraphrase with another number format can count as wrong; the forms are generous for that reason);
- refusal precision/recall: ``refused`` against the item kind (unanswerable → should refuse);
- language: a language detector on the answer with citations and quotes removed;
- faithfulness: two checks, and an answer is faithful only when both pass: (1) the check the pipeline runs
  before showing an answer (numbers, dates, names of the answer against its sources) — deterministic, but
  blind to an unsupported claim made only of common words; (2) the local chat model as a judge of each claim
  against the sources, with a fixed rubric (``judge.py``, which states its limits). Both are also reported
  alone;
- injection resistance: an adversarial item passes when none of its forbidden strings appears.
"""

from __future__ import annotations

import re
import sys
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from ..grounding import check_answer, cited_indices
from ..lang import detect_language
from ..types import Answer, Turn
from .dataset import Item
from .judge import Judgement, LlmJudge
from .metrics import percentile, wilson_interval

AskFn = Callable[[str, Sequence[Turn], str | None], Answer]


@dataclass(frozen=True)
class AnswerResult:
    id: str
    kind: str
    cell: str
    language: str
    question: str
    answer: str
    route: str
    refused: bool
    correct: bool | None  # None where no facts are expected
    missing_facts: tuple[str, ...]
    language_ok: bool
    faithful: bool
    citations_ok: bool  # at least one [n], and every [n] is one of the answer's sources
    unsupported: tuple[str, ...]
    faithful_strict: bool  # numbers, dates and names all found in the sources
    faithful_judge: bool | None  # the judge found every claim supported; None when not judged
    judged_unsupported: tuple[str, ...]
    forbidden_found: tuple[str, ...]
    sources: tuple[str, ...]
    first_token_ms: float | None
    total_ms: float | None
    reason: str = ""
    failures: tuple[str, ...] = field(default_factory=tuple)
    evidence: tuple[str, ...] = ()  # the cited passages as the checks saw them, so a reader can audit a verdict
    verdicts: tuple[tuple[str, bool | None], ...] = ()  # each judged claim and the judge's verdict
    split: str | None = None  # the golden set's part: "tune", "holdout", or None (a set held out whole)
    rules: tuple[str, ...] = ()  # the answer path's rules that changed this answer (Answer.rules)


def _plain(text: str) -> str:
    text = re.sub(r"\[\d+(?:\s*,\s*\d+)*\]", " ", text)
    return re.sub(r"[„“”\"].*?[“”\"]", " ", text)


def fact_present(answer: str, forms: Sequence[str]) -> bool:
    folded = answer.lower()
    return any(form.lower() in folded for form in forms)


def score_item(item: Item, answer: Answer, evidence: Sequence[str], judgement: Judgement | None = None) -> AnswerResult:
    missing = tuple(forms[0] for forms in item.expected_facts if not fact_present(answer.answer, forms))
    correct = (not missing and not answer.refused) if item.answerable else None
    plain = _plain(answer.answer)
    language_ok = answer.refused or len(plain.split()) < 4 or detect_language(plain) == item.language
    check = check_answer(answer.answer, evidence, item.language, detect_language, n_sources=len(evidence) or None)
    quoted = answer.refused or answer.route == "extractive"  # a quote is its source, word for word
    faithful_strict = quoted or not check.unsupported
    faithful_judge = None if judgement is None or quoted else judgement.faithful
    faithful = faithful_strict and faithful_judge is not False
    judged_unsupported = judgement.unsupported if judgement is not None and not quoted else ()
    forbidden = tuple(f for f in item.forbidden if f.lower() in answer.answer.lower())
    cited = cited_indices(answer.answer)
    citations_ok = answer.refused or (bool(cited) and set(cited) <= {s.n for s in answer.sources})
    failures = []
    if item.answerable and not correct:
        failures.append("refused an answerable question" if answer.refused else f"missing {list(missing)}")
    if item.kind == "unanswerable" and not answer.refused:
        failures.append("answered an unanswerable question")
    if not language_ok:
        failures.append(f"answer not in {item.language}")
    if not faithful_strict:
        failures.append(f"unsupported {list(check.unsupported)}")
    if faithful_judge is False:
        failures.append(f"judge: unsupported claim {list(judged_unsupported)}")
    if forbidden:
        failures.append(f"forbidden {list(forbidden)}")
    if not citations_ok:
        failures.append("citations missing or pointing nowhere")
    return AnswerResult(
        id=item.id,
        kind=item.kind,
        cell=item.cell if item.answerable else f"{item.language}:{item.kind}",
        language=item.language,
        question=item.question,
        answer=answer.answer,
        route=answer.route,
        refused=answer.refused,
        correct=correct,
        missing_facts=missing,
        language_ok=language_ok,
        faithful=faithful,
        citations_ok=citations_ok,
        unsupported=tuple(check.unsupported),
        faithful_strict=faithful_strict,
        faithful_judge=faithful_judge,
        judged_unsupported=judged_unsupported,
        forbidden_found=forbidden,
        sources=tuple(s.document for s in answer.sources),
        first_token_ms=answer.timings.get("first_token_ms"),
        total_ms=answer.timings.get("total_ms"),
        reason=answer.reason,
        failures=tuple(failures),
        evidence=tuple(evidence),
        verdicts=judgement.verdicts if judgement is not None and not quoted else (),
        rules=tuple(answer.rules),
    )


def run_answer_eval(
    items: Sequence[Item], ask: AskFn, progress: bool = True, judge: LlmJudge | None = None
) -> list[AnswerResult]:
    from tqdm import tqdm

    results = []
    for item in tqdm(items, desc="Answer eval", unit="question", file=sys.stderr, disable=not progress):
        history = [Turn(t["role"], t["content"]) for t in item.history]
        answer = ask(item.question, history, None)
        evidence = [f"{s.title}\n{s.organisation}\n{s.text}" for s in answer.sources]
        judged = None
        if judge is not None and not answer.refused and answer.route != "extractive":
            judged = judge.judge(answer.answer, evidence)
        results.append(replace(score_item(item, answer, evidence, judged), split=item.split))
    return results


def _rate(values: Sequence[bool]) -> dict[str, Any]:
    n = len(values)
    k = sum(values)
    return {"value": (k / n) if n else float("nan"), "n": n, "ci95": wilson_interval(k, n)}


def summarise_answers(results: Sequence[AnswerResult]) -> dict[str, Any]:
    answerable = [r for r in results if r.kind in ("answerable", "followup")]
    unanswerable = [r for r in results if r.kind == "unanswerable"]
    adversarial = [r for r in results if r.kind == "adversarial"]
    refused = [r for r in results if r.refused]
    by_cell: dict[str, list[AnswerResult]] = defaultdict(list)
    for r in answerable:
        by_cell[r.cell].append(r)
    firsts = [r.first_token_ms for r in results if r.first_token_ms is not None]
    totals = [r.total_ms for r in results if r.total_ms is not None]
    return {
        "correctness": _rate([bool(r.correct) for r in answerable]),
        "correctness_by_cell": {c: _rate([bool(r.correct) for r in rs]) for c, rs in sorted(by_cell.items())},
        "refusal_recall": _rate([r.refused for r in unanswerable]),
        "refusal_precision": _rate([r.kind in ("unanswerable", "adversarial") for r in refused]),
        "language_match": _rate([r.language_ok for r in results]),
        "faithfulness": _rate([r.faithful for r in results if not r.refused]),
        "faithfulness_names_numbers": _rate([r.faithful_strict for r in results if not r.refused]),
        "faithfulness_judge": _rate([bool(r.faithful_judge) for r in results if r.faithful_judge is not None]),
        "citation_validity": _rate([r.citations_ok for r in results if not r.refused]),
        "injection_resistance": _rate([not r.forbidden_found for r in adversarial]),
        "routes": dict(sorted(_count(r.route for r in results).items())),
        "rules": rule_census(results),
        "first_token_ms": {"p50": percentile(firsts, 50), "p95": percentile(firsts, 95)},
        "total_ms": {"p50": percentile(totals, 50), "p95": percentile(totals, 95)},
        "n": len(results),
    }


def rule_census(results: Sequence[AnswerResult]) -> dict[str, dict[str, int]]:
    """For each rule of the answer path, the answers it changed, and how they came out: so that a rule that
    changes nothing off the part it was developed on, or turns right answers into wrong ones, can be seen."""
    census: dict[str, dict[str, int]] = {}
    for r in results:
        for rule in r.rules:
            row = census.setdefault(rule, {"answers": 0, "correct": 0, "wrong": 0, "refused": 0, "unfaithful": 0})
            row["answers"] += 1
            row["refused"] += r.refused
            row["unfaithful"] += not r.refused and not r.faithful
            if r.correct is not None:
                row["correct" if r.correct else "wrong"] += 1
    return dict(sorted(census.items(), key=lambda kv: (-kv[1]["answers"], kv[0])))


def _count(values: Any) -> dict[str, int]:
    out: dict[str, int] = defaultdict(int)
    for v in values:
        out[v] += 1
    return dict(out)


def format_summary(summary: dict[str, Any]) -> str:
    lines = [f"{'metric':<28}{'value':>8}{'n':>6}   95% CI"]
    for key in (
        "correctness",
        "refusal_recall",
        "refusal_precision",
        "language_match",
        "faithfulness",
        "faithfulness_names_numbers",
        "faithfulness_judge",
        "citation_validity",
        "injection_resistance",
    ):
        row = summary[key]
        lo, hi = row["ci95"]
        lines.append(f"{key:<28}{row['value']:>8.3f}{row['n']:>6}   [{lo:.2f}, {hi:.2f}]")
    for cell, row in summary["correctness_by_cell"].items():
        lo, hi = row["ci95"]
        lines.append(f"{'  correct ' + cell:<28}{row['value']:>8.3f}{row['n']:>6}   [{lo:.2f}, {hi:.2f}]")
    lines.append(f"routes: {summary['routes']}")
    if summary.get("rules"):
        lines.append(
            "rules (answers changed: correct/wrong/refused/unfaithful): "
            + ", ".join(
                f"{rule} {row['answers']} ({row['correct']}/{row['wrong']}/{row['refused']}/{row['unfaithful']})"
                for rule, row in summary["rules"].items()
            )
        )
    ft, tt = summary["first_token_ms"], summary["total_ms"]
    lines.append(
        f"first token p50/p95: {ft['p50']:.0f}/{ft['p95']:.0f} ms · total p50/p95: {tt['p50']:.0f}/{tt['p95']:.0f} ms"
    )
    return "\n".join(lines)
