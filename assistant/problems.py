"""What a check finds wrong with a draft, as typed values, never prose that another module parses back.

Each problem says what kind of failure it is (``kind``) and how it reads (``describe``): the sentence shown in
the stricter retry prompt and recorded in an answer's ``reason``; the evaluation compares those sentences, so
their wording is part of the contract.

Kinds
- FORM: the facts may be right, their form is not (the wrong language, a source number that points nowhere, no
  text at all, a sentence missing its verb); quoting the passages mends it.
- FACT: the draft states what the passages do not hold (a date, number, name or contact detail, a denial, the
  wording of its own instructions, a word the visitor dictated); twice in a row, the passages do not answer the
  question, and the refusal is shown.
- FIT: nothing stated is wrong, but it does not answer what was asked (no value of the kind asked for, a figure
  years older than the "today" asked about).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum
from typing import ClassVar


class Kind(Enum):
    FORM = "form"
    FACT = "fact"
    FIT = "fit"


@dataclass(frozen=True)
class Problem:
    kind: ClassVar[Kind]

    @property
    def form(self) -> bool:
        return self.kind is Kind.FORM

    @property
    def fact(self) -> bool:
        return self.kind is Kind.FACT

    def describe(self) -> str:
        raise NotImplementedError


def describe_all(problems: Iterable[Problem]) -> str:
    """The problems as one line, as the stricter prompt and an answer's ``reason`` show them."""
    return "; ".join(p.describe() for p in problems)


# -- form ----------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class WrongLanguage(Problem):
    """The draft is in another language than the visitor's (then every capitalised German noun looks like a name,
    so its other problems say nothing about its facts)."""

    kind: ClassVar[Kind] = Kind.FORM
    found: str
    expected: str

    def describe(self) -> str:
        return f"answer is in {self.found}, expected {self.expected}"


@dataclass(frozen=True)
class BrokenCitation(Problem):
    """A source number that names no passage the model was given."""

    kind: ClassVar[Kind] = Kind.FORM
    n: int

    def describe(self) -> str:
        return f"citation [{self.n}] points to no passage"


@dataclass(frozen=True)
class EmptyAnswer(Problem):
    """Nothing, or only source numbers."""

    kind: ClassVar[Kind] = Kind.FORM

    def describe(self) -> str:
        return "empty answer"


@dataclass(frozen=True)
class DroppedVerb(Problem):
    """A sentence repeats the question around its verb but leaves the verb out (see ``grounding.dropped_verb``)."""

    kind: ClassVar[Kind] = Kind.FORM
    verb: str

    def describe(self) -> str:
        return f"a sentence repeats the question without its verb '{self.verb}'"


# -- fact ----------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class UnsupportedDate(Problem):
    kind: ClassVar[Kind] = Kind.FACT
    surface: str  # as written in the draft

    def describe(self) -> str:
        return f"date {self.surface} is not in the cited passages"


@dataclass(frozen=True)
class UnsupportedNumber(Problem):
    kind: ClassVar[Kind] = Kind.FACT
    surface: str

    def describe(self) -> str:
        return f"number {self.surface} is not in the cited passages"


@dataclass(frozen=True)
class UnsupportedName(Problem):
    kind: ClassVar[Kind] = Kind.FACT
    name: str

    def describe(self) -> str:
        return f"name '{self.name}' is not in the cited passages"


@dataclass(frozen=True)
class UnsupportedContact(Problem):
    """A phone number, e-mail or street address that no cited passage states (``person`` None), or that only
    passages not naming ``person``, whom the question asks about, state (see ``contacts``)."""

    kind: ClassVar[Kind] = Kind.FACT
    value: str
    person: str | None = None

    def describe(self) -> str:
        if self.person is None:
            return f"contact {self.value} is not in the cited passages"
        return f"contact {self.value} is not stated for {self.person} in the cited passages"


@dataclass(frozen=True)
class ScatteredFacts(Problem):
    """A sentence whose facts each stand in a passage, but in no one passage together: it joins what one passage
    says about one thing to another thing (see ``grounding.scattered_sentences``)."""

    kind: ClassVar[Kind] = Kind.FACT
    sentence: str

    def describe(self) -> str:
        return f'the sentence "{self.sentence}" joins facts that no single source states together'


@dataclass(frozen=True)
class UnsupportedDenial(Problem):
    """The draft's first sentence denies something, and no passage denies anything."""

    kind: ClassVar[Kind] = Kind.FACT
    sentence: str

    def describe(self) -> str:
        return f"'{self.sentence}' denies what no source denies"


@dataclass(frozen=True)
class QuotesInstructions(Problem):
    """The draft carries a run of the model's instructions that no passage holds (``injection.quoted_instructions``):
    a visitor asked for the rules, or the model recited them. FACT, not FORM: quoting the passages would mend the
    form, but the draft obeyed the question instead of the sources, so it gets one stricter draft and then the
    refusal. The sentence names no word of the instructions, since an answer's ``reason`` is shown in the API."""

    kind: ClassVar[Kind] = Kind.FACT

    def describe(self) -> str:
        return "the answer repeats the assistant's own instructions"


@dataclass(frozen=True)
class CarriesQuestionWord(Problem):
    """The draft carries a word the visitor set apart in the question (quoted or in capitals) that no passage
    holds (``injection.carried_words``): "HACKED" at the start of an answer obeys the question, not the sources."""

    kind: ClassVar[Kind] = Kind.FACT
    word: str

    def describe(self) -> str:
        return f"the answer repeats '{self.word}' from the question, which no source holds"


# -- fit -----------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class MissingSlot(Problem):
    """The answer gives no value of the kind the question asks for (see ``slots.asked_slot``)."""

    kind: ClassVar[Kind] = Kind.FIT
    slot: str | None

    @property
    def what(self) -> str | None:
        """The kind of value in words: "web address" for the slot "web"."""
        return slot_words(self.slot)

    def describe(self) -> str:
        return f"the answer gives no {self.what}, which the question asks for"


@dataclass(frozen=True)
class UnheldCount(MissingSlot):
    """A count given only in words that no passage holds ("Two sources give the number of guests [1] [3]")."""

    def describe(self) -> str:
        return "the answer gives no number the sources hold, which the question asks for"


@dataclass(frozen=True)
class StaleFigure(Problem):
    """A figure for "today" that the materials date to ``year``."""

    kind: ClassVar[Kind] = Kind.FIT
    year: int | str

    def describe(self) -> str:
        return f"the question asks about today; the materials give this figure for {self.year}"


def slot_words(slot: str | None) -> str | None:
    """A slot's kind of value in words: "web address" for "web", the slot's name otherwise."""
    return "web address" if slot == "web" else slot
