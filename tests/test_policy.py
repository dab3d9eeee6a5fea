"""The policy table: a checked draft's verdict, and the repair each (draft, verdict) gets."""

from __future__ import annotations

import pytest

from assistant.policy import POLICY, Repair, Stage, Verdict, classify, repair
from assistant.problems import (
    BrokenCitation,
    EmptyAnswer,
    MissingSlot,
    UnsupportedContact,
    UnsupportedDenial,
    UnsupportedName,
    UnsupportedNumber,
    WrongLanguage,
)


def test_a_draft_states_an_invented_fact_when_a_fact_problem_is_found_in_the_right_language() -> None:
    assert classify(False, [BrokenCitation(3), EmptyAnswer()], None, False) is Verdict.FORM
    assert classify(False, [BrokenCitation(3), UnsupportedNumber("4")], None, False) is Verdict.FACT
    assert classify(False, [UnsupportedContact("a@b.example", "Jane Doe")], None, False) is Verdict.FACT
    assert classify(False, [UnsupportedDenial("No.")], None, False) is Verdict.FACT
    # in the wrong language every capitalised German noun looks like a name: not taken for invention
    assert classify(False, [WrongLanguage("de", "en"), UnsupportedName("Pfund Maschinen")], None, False) is (
        Verdict.FORM
    )


def test_a_refusal_wins_over_everything_and_fit_is_judged_before_a_lost_verb() -> None:
    assert classify(True, [], MissingSlot("number"), True) is Verdict.REFUSED
    assert classify(False, [], MissingSlot("number"), True) is Verdict.UNFIT
    assert classify(False, [], None, True) is Verdict.GARBLED
    assert classify(False, [], None, False) is Verdict.CLEAN
    # problems are judged before fit: a draft with an invented number is not "unfit", it is wrong
    assert classify(False, [UnsupportedNumber("4")], MissingSlot("number"), False) is Verdict.FACT


@pytest.mark.parametrize(
    ("stage", "verdict", "expected"),
    [
        (Stage.FIRST, Verdict.FACT, Repair.RETRY),
        (Stage.FIRST, Verdict.FORM, Repair.RETRY),
        (Stage.FIRST, Verdict.GARBLED, Repair.QUOTE_DRAFT),
        (Stage.SECOND, Verdict.FACT, Repair.REFUSE),
        (Stage.SECOND, Verdict.FORM, Repair.QUOTE_PASSAGES),
        (Stage.SECOND, Verdict.UNFIT, Repair.QUOTE_SLOT),
    ],
)
def test_the_table_retries_once_then_refuses_invented_facts_and_quotes_wrong_forms(
    stage: Stage, verdict: Verdict, expected: Repair
) -> None:
    assert repair(stage, verdict) is expected


def test_every_verdict_has_a_repair_at_each_stage_and_a_second_draft_is_never_retried() -> None:
    for verdict in Verdict:
        assert (Stage.FIRST, verdict) in POLICY
        if verdict is not Verdict.GARBLED:  # a second draft is never judged garbled
            assert POLICY[(Stage.SECOND, verdict)] is not Repair.RETRY
