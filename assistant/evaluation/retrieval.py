"""Retrieval evaluation: hit@1, hit@5 and MRR per cell (question language → document language) and overall.

For each answerable item the search is restricted to documents in the item's ``doc_language``, so an
English question labelled ``doc_language: de`` must find the German text: the cross-lingual cells
measure what they say. A second pass over the whole mixed corpus (any language variant of an expected
document counts) is reported as ``mixed``: that is the search a visitor's question gets. ``found@5`` is the
figure the floor applies to: on the mixed corpus, an expected document is among the first five passages, or
every expected fact stands in their text (a paraphrase of the fact in another document serves the answer too).
"""

from __future__ import annotations

import json
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ..types import Passage
from .answers import fact_present
from .dataset import Item
from .metrics import hit_at, mean, percentile, reciprocal_rank, wilson_interval

SearchFn = Callable[[str, int, str | None], list[Passage]]
CELLS = ("de→de", "de→en", "en→de", "en→en")


@dataclass(frozen=True)
class ItemResult:
    id: str
    cell: str
    question: str
    expected: tuple[str, ...]
    ranked: tuple[str, ...]  # doc ids, best first (doc_language-restricted search)
    ranked_mixed: tuple[str, ...]
    hit1: float
    hit5: float
    rr: float
    hit5_mixed: float
    rr_mixed: float
    latency_ms: float
    found5: float = 0.0  # mixed corpus: an expected document in the top five, or every expected fact in their text
    split: str | None = None


def evaluate_item(item: Item, search: SearchFn, k: int = 10) -> ItemResult:
    started = time.perf_counter()
    restricted = search(item.question, k, item.doc_language)
    latency_ms = (time.perf_counter() - started) * 1000
    mixed = search(item.question, k, None)
    ranked = tuple(p.chunk.doc_id for p in restricted)
    ranked_mixed = tuple(p.chunk.doc_id for p in mixed)
    top_text = "\n".join(p.chunk.text for p in mixed[:5])
    hit5_mixed = hit_at(ranked_mixed, item.documents, 5)
    facts_found = bool(item.expected_facts) and all(fact_present(top_text, forms) for forms in item.expected_facts)
    return ItemResult(
        id=item.id,
        cell=item.cell,
        question=item.question,
        expected=item.documents,
        ranked=ranked,
        ranked_mixed=ranked_mixed,
        hit1=hit_at(ranked, item.documents, 1),
        hit5=hit_at(ranked, item.documents, 5),
        rr=reciprocal_rank(ranked, item.documents),
        hit5_mixed=hit5_mixed,
        rr_mixed=reciprocal_rank(ranked_mixed, item.documents),
        latency_ms=latency_ms,
        found5=float(bool(hit5_mixed) or facts_found),
        split=item.split,
    )


def summarise(results: Sequence[ItemResult]) -> dict[str, dict[str, Any]]:
    groups: dict[str, list[ItemResult]] = defaultdict(list)
    for r in results:
        groups[r.cell].append(r)
    groups["overall"] = list(results)
    table: dict[str, dict[str, Any]] = {}
    for name in [*CELLS, *sorted(set(groups) - {*CELLS, "overall"}), "overall"]:
        rows = groups.get(name)
        if not rows:
            continue
        n = len(rows)
        hits5 = sum(r.hit5 for r in rows)
        table[name] = {
            "n": n,
            "hit@1": mean([r.hit1 for r in rows]),
            "hit@5": hits5 / n,
            "hit@5_ci95": wilson_interval(hits5, n),
            "mrr": mean([r.rr for r in rows]),
            "mixed_hit@5": mean([r.hit5_mixed for r in rows]),
            "mixed_mrr": mean([r.rr_mixed for r in rows]),
            "found@5": mean([r.found5 for r in rows]),
            "found@5_ci95": wilson_interval(sum(r.found5 for r in rows), n),
            "latency_p50_ms": percentile([r.latency_ms for r in rows], 50),
        }
    return table


def run_retrieval_eval(items: Sequence[Item], search: SearchFn, progress: bool = True) -> list[ItemResult]:
    from tqdm import tqdm

    answerable = [i for i in items if i.kind == "answerable"]
    return [
        evaluate_item(item, search)
        for item in tqdm(answerable, desc="Retrieval eval", unit="question", file=sys.stderr, disable=not progress)
    ]


def format_table(table: dict[str, dict[str, Any]]) -> str:
    header = f"{'cell':<9}{'n':>4}{'hit@1':>8}{'hit@5':>8}{'MRR':>8}   {'hit@5 95% CI':<15}"
    lines = [header + f"{'mixed hit@5':>12}{'mixed MRR':>10}{'found@5':>9}"]
    for name, row in table.items():
        lo, hi = row["hit@5_ci95"]
        lines.append(
            f"{name:<9}{row['n']:>4}{row['hit@1']:>8.3f}{row['hit@5']:>8.3f}{row['mrr']:>8.3f}   "
            f"[{lo:.2f}, {hi:.2f}]    {row['mixed_hit@5']:>10.3f}{row['mixed_mrr']:>10.3f}"
            f"{row.get('found@5', float('nan')):>9.3f}"
        )
    return "\n".join(lines)


def write_report(
    path: Path, table: dict[str, dict[str, Any]], results: Sequence[ItemResult], meta: dict[str, Any]
) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    report = {"meta": meta, "summary": table, "items": [asdict(r) for r in results]}
    path.write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
