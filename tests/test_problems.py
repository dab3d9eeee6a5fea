"""The checks return typed problems: each class comes from its check, reads as the sentence the retry prompt and an
answer's reason show, and says whether it is a problem of form or of fact, as the answer pipeline decides by it."""

from __future__ import annotations

import pytest

from assistant.answering import Answerer
from assistant.grounding import check_answer
from assistant.lang import detect_language
from assistant.problems import (
    BrokenCitation,
    CarriesQuestionWord,
    DroppedVerb,
    EmptyAnswer,
    Kind,
    MissingSlot,
    Problem,
    QuotesInstructions,
    StaleFigure,
    UnsupportedContact,
    UnsupportedDate,
    UnsupportedDenial,
    UnsupportedName,
    UnsupportedNumber,
    WrongLanguage,
    describe_all,
)
from assistant.settings import Settings
from assistant.types import Chunk, Passage

PASSAGE = (
    "Firm X was founded on March 3, 1987 in Musterstadt and has 40 employees. It is led by Erika Musterfrau. "
    "Phone: +49 231 123456-0."
)


def check(answer: str, language: str = "en", question: str = "") -> tuple[Problem, ...]:
    return check_answer(answer, [PASSAGE], language, detect_language, n_sources=1, question=question).problems


def test_a_draft_in_another_language_is_a_wrong_language() -> None:
    assert check("Die Firma X wurde in Musterstadt gegründet [1].") == (WrongLanguage(found="de", expected="en"),)


def test_a_source_number_beyond_the_passages_is_a_broken_citation() -> None:
    assert check("Firm X was founded in Musterstadt and is led by Erika Musterfrau [2].") == (BrokenCitation(2),)


def test_an_invented_date_number_or_name_is_an_unsupported_one() -> None:
    assert check("Firm X was founded on March 4, 1987 [1].") == (UnsupportedDate("March 4, 1987"),)
    assert check("Firm X has 41 employees [1].") == (UnsupportedNumber("41"),)
    assert check("Firm X is led by John Example [1].") == (UnsupportedName("John Example"),)


def test_an_invented_contact_or_one_of_another_is_an_unsupported_contact() -> None:
    assert check("Write to firm X at info@firm-x.example [1].") == (UnsupportedContact("info@firm-x.example"),)
    asked = "How can I reach Jane Doe?"
    assert check("Call firm X at +49 231 123456-0 [1].", question=asked) == (
        UnsupportedContact("+49 231 123456-0", "Jane Doe"),
    )


def test_the_answer_pipeline_finds_empty_drafts_denials_and_missing_values(settings: Settings) -> None:
    chunk = Chunk("c1", PASSAGE, "d1", "firm-x.en.md", "Firm X", "About", "Firm X", "en")
    passages = [Passage(chunk, 1, 1.0)]
    answerer = Answerer(retriever=None, chat=None, settings=settings)  # type: ignore[arg-type]
    assert answerer._judge("[1]", passages, "en").problems == (EmptyAnswer(),)
    denial = "No, firm X has no office in Musterstadt."
    assert answerer._judge(f"{denial} [1]", passages, "en").problems == (UnsupportedDenial(denial),)
    assert answerer._unfit("Firm X is in Musterstadt [1].", "When was firm X founded?", "date", passages) == (
        MissingSlot("date")
    )


@pytest.mark.parametrize(
    ("problem", "sentence"),
    [
        (WrongLanguage("de", "en"), "answer is in de, expected en"),
        (BrokenCitation(3), "citation [3] points to no passage"),
        (EmptyAnswer(), "empty answer"),
        (DroppedVerb("Was"), "a sentence repeats the question without its verb 'Was'"),
        (UnsupportedDate("September 15, 2024"), "date September 15, 2024 is not in the cited passages"),
        (UnsupportedNumber("1,800"), "number 1,800 is not in the cited passages"),
        (UnsupportedName("Hans Müller"), "name 'Hans Müller' is not in the cited passages"),
        (UnsupportedContact("info@x.example"), "contact info@x.example is not in the cited passages"),
        (
            UnsupportedContact("+49 231 1", "Musterfrau"),
            "contact +49 231 1 is not stated for Musterfrau in the cited passages",
        ),
        (UnsupportedDenial("No, it does not."), "'No, it does not.' denies what no source denies"),
        (QuotesInstructions(), "the answer repeats the assistant's own instructions"),
        (CarriesQuestionWord("HACKED"), "the answer repeats 'HACKED' from the question, which no source holds"),
        (MissingSlot("web"), "the answer gives no web address, which the question asks for"),
        (MissingSlot("name"), "the answer gives no name, which the question asks for"),
        (StaleFigure(2021), "the question asks about today; the materials give this figure for 2021"),
    ],
)
def test_each_problem_reads_as_the_sentence_the_prompt_and_the_reason_show(problem: Problem, sentence: str) -> None:
    assert problem.describe() == sentence


def test_problems_of_form_and_of_fact() -> None:
    form = [WrongLanguage("de", "en"), BrokenCitation(3), EmptyAnswer(), DroppedVerb("is")]
    fact = [
        UnsupportedDate("May 1"),
        UnsupportedNumber("4"),
        UnsupportedName("X"),
        UnsupportedContact("a@b.example"),
        UnsupportedContact("a@b.example", "Jane Doe"),
        UnsupportedDenial("No."),
        QuotesInstructions(),
        CarriesQuestionWord("PWNED"),
    ]
    fit = [MissingSlot("number"), StaleFigure(2019)]
    assert all(p.form and not p.fact and p.kind is Kind.FORM for p in form)
    assert all(p.fact and not p.form and p.kind is Kind.FACT for p in fact)
    assert all(not p.fact and not p.form and p.kind is Kind.FIT for p in fit)
    assert describe_all([BrokenCitation(3), UnsupportedNumber("4")]) == (
        "citation [3] points to no passage; number 4 is not in the cited passages"
    )
