from __future__ import annotations

import pytest

from assistant.slots import asked_slot, fills_slot


@pytest.mark.parametrize(
    ("question", "slot"),
    [
        ("How many employees does Papenmeier have?", "number"),
        ("Wie viele Studierende hat die FH Dortmund?", "number"),
        ("Was kostet ein Tagesticket?", None),
        ("When was FH Dortmund founded?", "date"),
        ("Seit wann gibt es das Unternehmen?", "date"),
        ("In welchem Jahr wurde GRIP gegründet?", "date"),
        ("What is the website of GACC Midwest?", "web"),
        ("Wer leitet die GRIP GmbH?", None),
    ],
)
def test_the_asked_slot(question: str, slot: str | None) -> None:
    assert asked_slot(question) == slot


@pytest.mark.parametrize(
    ("answer", "slot", "fills"),
    [
        ("The booth number of the Dortmund joint booth at IMTS is [1].", "number", False),
        ("1. [1]", "number", False),  # only a citation-like leftover
        ("The booth number is given in the sources [1, 2].", "number", False),  # a citation is not a count
        (
            "Armin Papenmeier joined the company in 1993 and was named entrepreneur of the year 2019 [2].",
            "number",
            False,
        ),
        ("BVB opened its New York office on February 29, 2024 [1].", "number", False),  # a day is no count
        ("Die TU trägt ihren Namen seit dem 1. November 2007 [1].", "number", False),
        ("The office opened on the 29th of February [1].", "number", False),
        ("GRIP had about 40 employees in December 2021 [1].", "number", True),
        ("In 2018 the cities celebrated the 40th anniversary of their partnership [1].", "number", True),
        ("IMTS 2024 had more than eighty-nine thousand registrants [1].", "number", True),
        ("Rund 1.800 Mitglieder (Stand 2017) [1].", "number", True),
        ("FH Dortmund was founded on August 1, 1971 [1].", "date", True),
        ("Die Fachhochschule wurde am 1.8.1971 gegründet [1].", "date", True),
        ("It opened in February [1].", "date", True),
        ("It was founded by merging several schools [1].", "date", False),
        ("The website of GACC Midwest is [2].", "web", False),
        ("The website is www.gaccmidwest.org [2].", "web", True),
        ("Anything at all.", None, True),
    ],
)
def test_an_answer_fills_the_slot_only_with_the_right_kind_of_value(answer: str, slot: str | None, fills: bool) -> None:
    assert fills_slot(answer, slot) is fills


def test_a_name_question_wants_a_name_the_question_does_not_already_hold() -> None:
    question = "Wie heißt der Gouverneur von Illinois, den die Delegation bei der German Night getroffen hat?"
    assert asked_slot(question) == "name"
    assert asked_slot("What was the name of the Illinois governor?") == "name"
    echo = "Der Gouverneur von Illinois, den die Delegation bei der German Night getroffen hat, ist [1]."
    assert not fills_slot(echo, "name", question)
    assert fills_slot("Der Gouverneur heißt J.B. Pritzker [1].", "name", question)
    assert fills_slot("Anything at all.", None, question)


def test_a_figure_for_today_that_the_materials_date_years_before_is_recognised() -> None:
    from assistant.slots import asks_about_now, dated_figure

    grip = ["Die GRIP GmbH hatte im Dezember 2021 ein Team von rund 40 Beschäftigten. Im Jahr 2017 gewann GRIP."]
    assert asks_about_now("How many people work at GRIP today?") and asks_about_now("Wie viele arbeiten heute dort?")
    assert not asks_about_now("How many people worked at GRIP in 2021?")
    assert dated_figure("40 [1]", grip, 2024) == 2021
    assert dated_figure("About 40 people [1].", grip, 2021) is None  # dated in the present year: today's figure
    imts = ["Zur IMTS 2024 registrierten sich insgesamt 89.020 Personen."]
    assert dated_figure("IMTS 2024 had 89,020 registrants [1].", imts, 2024) is None
    assert dated_figure("About 54,000 students [1].", ["About 54,000 students are enrolled today."], 2024) is None
    assert dated_figure("About 7 people [1].", grip, 2024) is None  # a figure the sources do not hold


def test_a_count_in_words_fills_the_slot_only_when_the_passages_hold_it() -> None:
    question = "Wie viele Gäste kamen zum Empfang?"
    draft = "Zwei verschiedene Quellen geben die Anzahl der Gäste an: [1] und [3]."
    assert fills_slot(draft, "number", question)  # without the passages: any count word
    assert not fills_slot(draft, "number", question, ["Der Empfang fand im Hotel statt. Rund 200 Gäste kamen."])
    assert fills_slot("Es kamen zwei Gäste [1].", "number", question, ["Nur zwei Gäste kamen."])
    assert fills_slot("Es kamen 200 Gäste [1].", "number", question, ["Rund 200 Gäste kamen."])
