"""What to do with a checked draft: its verdict, looked up in one table, gives the repair.

The checks (``grounding``, ``slots``, ``contacts``) return typed problems (``problems``); ``classify`` turns a draft
and its problems into one verdict; ``POLICY`` maps (which draft, verdict) to a repair. The answer pipeline
(``answering``) carries the repair out; no control flow reads the problems' sentences.

| draft  | verdict  | repair                                                                    |
|--------|----------|---------------------------------------------------------------------------|
| first  | refused  | the refusal sentence                                                      |
| first  | clean    | shown, with its source numbers                                            |
| first  | unfit    | the passage sentence that gives the value asked for, quoted; else refusal |
| first  | garbled  | what it meant, quoted from its sources; else as written                   |
| first  | form     | a second, stricter draft                                                  |
| first  | fact     | a second, stricter draft                                                  |
| second | refused  | the refusal sentence                                                      |
| second | clean    | shown, with its source numbers                                            |
| second | unfit    | as for the first                                                          |
| second | form     | the passages quoted (right facts, wrong form)                             |
| second | fact     | the refusal sentence (twice a fact the passages do not hold)              |
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import Enum

from .problems import Problem, WrongLanguage


class Stage(Enum):
    FIRST = "first"
    SECOND = "second"


class Verdict(Enum):
    REFUSED = "refused"  # the draft says the passages do not answer
    CLEAN = "clean"  # no problem, and it gives what was asked for
    UNFIT = "unfit"  # nothing wrong, but not the kind of value asked for, or a stale figure for "today"
    GARBLED = "garbled"  # a sentence repeats the question without its verb (asked again, the model repeats it)
    FORM = "form"  # the facts may be right, their form is not (language, source numbers, empty)
    FACT = "fact"  # states what the passages do not hold


class Repair(Enum):
    REFUSE = "refuse"
    CITE = "cite"
    QUOTE_SLOT = "quote-slot"
    QUOTE_DRAFT = "quote-draft"
    RETRY = "retry"
    QUOTE_PASSAGES = "quote-passages"


POLICY: dict[tuple[Stage, Verdict], Repair] = {
    (Stage.FIRST, Verdict.REFUSED): Repair.REFUSE,
    (Stage.FIRST, Verdict.CLEAN): Repair.CITE,
    (Stage.FIRST, Verdict.UNFIT): Repair.QUOTE_SLOT,
    (Stage.FIRST, Verdict.GARBLED): Repair.QUOTE_DRAFT,
    (Stage.FIRST, Verdict.FORM): Repair.RETRY,
    (Stage.FIRST, Verdict.FACT): Repair.RETRY,
    (Stage.SECOND, Verdict.REFUSED): Repair.REFUSE,
    (Stage.SECOND, Verdict.CLEAN): Repair.CITE,
    (Stage.SECOND, Verdict.UNFIT): Repair.QUOTE_SLOT,
    (Stage.SECOND, Verdict.FORM): Repair.QUOTE_PASSAGES,
    (Stage.SECOND, Verdict.FACT): Repair.REFUSE,
}


def classify(refused: bool, problems: Sequence[Problem], unfit: Problem | None, garbled: bool) -> Verdict:
    """One verdict for a checked draft. ``unfit`` is only looked at for a draft without problems, ``garbled``
    only for one that fits (a draft without the value asked for is judged by that first: measured, it kept
    unanswerable questions refused). A draft in the wrong language is FORM whatever else was found: there every
    capitalised German noun looks like a name to the check, so its other problems say nothing about its facts."""
    if refused:
        return Verdict.REFUSED
    if not problems:
        if unfit is not None:
            return Verdict.UNFIT
        return Verdict.GARBLED if garbled else Verdict.CLEAN
    if any(isinstance(p, WrongLanguage) for p in problems) or not any(p.fact for p in problems):
        return Verdict.FORM
    return Verdict.FACT


def repair(stage: Stage, verdict: Verdict) -> Repair:
    """The table's repair; a second draft is never judged garbled (it would be retried into a third)."""
    return POLICY[(stage, verdict)]
