"""Split a golden set into `tune` (answer-path rules may be developed against it) and `holdout` (only measured).

Stratified by kind and language cell; inside a stratum the order is fixed by a hash of the item id, so the split
depends on nothing a developer chose after seeing results. Items alternate between the parts, the alternation
carried across strata so that odd strata balance out. Items that already carry a `split` keep it (a re-run after
adding items assigns only the new ones), unless --reassign.

    python -m evals.split_golden evals/datasets/golden.jsonl            # writes the field in place
    python -m evals.split_golden evals/datasets/golden.jsonl --check    # exit 1 if an item has no split
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

PARTS = ("tune", "holdout")


def _stratum(raw: dict[str, Any]) -> tuple[str, str]:
    return raw["kind"], f"{raw['language']}→{raw.get('doc_language') or '-'}"


def assign(items: list[dict[str, Any]], reassign: bool = False) -> list[dict[str, Any]]:
    strata: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for raw in items:
        if reassign or raw.get("split") not in PARTS:
            strata[_stratum(raw)].append(raw)
    have = Counter(raw["split"] for raw in items if not reassign and raw.get("split") in PARTS)
    turn = 0 if have["tune"] <= have["holdout"] else 1
    for key in sorted(strata):
        for raw in sorted(strata[key], key=lambda r: hashlib.sha1(r["id"].encode()).hexdigest()):
            raw["split"] = PARTS[turn % 2]
            turn += 1
    return items


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("path", type=Path)
    parser.add_argument("--check", action="store_true", help="only check that every item has a split")
    parser.add_argument("--reassign", action="store_true", help="assign every item anew")
    args = parser.parse_args(argv)
    items = [json.loads(line) for line in args.path.read_text(encoding="utf-8").splitlines() if line.strip()]
    if args.check:
        missing = [raw["id"] for raw in items if raw.get("split") not in PARTS]
        if missing:
            print(f"{len(missing)} items without a split: {', '.join(missing)}", file=sys.stderr)
        return 1 if missing else 0
    assign(items, args.reassign)
    args.path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in items), encoding="utf-8")
    counts = Counter((r["split"], *_stratum(r)) for r in items)
    for part in PARTS:
        print(part, sum(v for k, v in counts.items() if k[0] == part))
    for key in sorted({k[1:] for k in counts}):
        print(f"  {key[0]:<13} {key[1]:<6} tune {counts[('tune', *key)]:>3}  holdout {counts[('holdout', *key)]:>3}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
