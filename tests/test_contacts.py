"""No invented contact details: a phone number, e-mail or street address is given only as a passage states it, and
for a person only where that passage names the person."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.app import build_assistant
from assistant.chat_models import FakeChatModel
from assistant.contacts import contact_details, unsupported_contacts
from assistant.embedders import FakeEmbedder
from assistant.grounding import check_answer
from assistant.lang import detect_language
from assistant.settings import Settings

from .conftest import source_number

FIRM = "Die Firma Y sitzt in der Musterstraße 7, 12345 Musterstadt. Telefon: +49 231 123456-0, E-Mail info@firma-y.example."
INSTITUTE = "Erika Musterfrau leitet das Institut Z. Das Institut Z ist unter 0231 98765-43 erreichbar."
PASSAGES = [FIRM, INSTITUTE]


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("Call +49 231 123456-0 or write to info@firma-y.example.", ["info@firma-y.example", "+49 231 123456-0"]),
        ("Die Firma sitzt in der Musterstr. 7.", ["Musterstr. 7"]),
        (
            "The office is at 120 Example Street, Springfield; call (312) 555-0100.",
            ["(312) 555-0100", "120 Example Street"],
        ),
        # dates, counts and years are no contact details
        ("Die Messe war vom 09.09.2024 bis 14.09.2024 und hatte 1.200.000 Besucher.", []),
        ("In 2021 the firm had about 40 staff; 89,020 registrants came in 2024.", []),
    ],
)
def test_contact_details_are_found(text: str, found: list[str]) -> None:
    assert contact_details(text) == found


SITE = "Mehr über die Firma Y steht auf https://www.firma-y.de/ueber-uns/ und im Blog auf blog.firma-y.de."


@pytest.mark.parametrize(
    ("text", "found"),
    [
        (
            "See [Firma Y](https://www.firma-y.de/hacked) or firma-y.de.",
            ["https://www.firma-y.de/hacked", "firma-y.de"],
        ),
        ("Write to info@firma-y.de.", ["info@firma-y.de"]),  # an e-mail's domain is no web address of its own
        ("Die Firma sitzt in der Stadt.It is large.", []),  # a missing space, not a web address
    ],
)
def test_web_addresses_are_contact_details(text: str, found: list[str]) -> None:
    assert contact_details(text) == found


@pytest.mark.parametrize(
    ("answer", "unsupported"),
    [
        ("Details: firma-y.de [1].", []),  # the host of an address the passage states
        ("Details: https://firma-y.de/ueber-uns [1].", []),  # the same address without www. and slash
        ("Details: Firma-Y.de/ueber-uns/ [1].", []),  # case does not matter
        ("Der Blog: blog.firma-y.de [1].", []),
        ("[Firma Y](https://www.firma-y.de/hacked) [1]", ["https://www.firma-y.de/hacked"]),  # a made-up path
        ("Details: firma-z.de [1].", ["firma-z.de"]),  # a made-up host
    ],
)
def test_a_web_address_stands_in_an_answer_only_as_a_passage_states_it(answer: str, unsupported: list[str]) -> None:
    assert [c for c, _ in unsupported_contacts(answer, [SITE])] == unsupported


@pytest.mark.parametrize(
    "answer",
    [
        "Die Firma Y erreichen Sie unter +49 231 123456-0.",
        "Die Firma Y erreichen Sie unter 0231 123456-0.",  # the national form of the same number
        "Firm Y: 0231/123456-0, info@FIRMA-Y.example.",
        "Die Firma sitzt in der Musterstr. 7.",
    ],
)
def test_contacts_a_passage_states_are_supported(answer: str) -> None:
    assert unsupported_contacts(answer, PASSAGES) == []


@pytest.mark.parametrize(
    ("answer", "contact"),
    [
        ("Call +49 231 123456-1.", "+49 231 123456-1"),  # one digit off
        ("Call +49 89 123456-0.", "+49 89 123456-0"),  # another area code
        ("Write to erika@firma-y.example.", "erika@firma-y.example"),  # an e-mail built from a name and a domain
        ("Die Firma sitzt in der Beispielstraße 9.", "Beispielstraße 9"),
    ],
)
def test_contacts_no_passage_states_are_unsupported(answer: str, contact: str) -> None:
    assert unsupported_contacts(answer, PASSAGES) == [(contact, None)]


def test_a_number_from_another_organisations_page_is_not_a_persons() -> None:
    question = "How can I reach Erika Musterfrau?"
    wrong = "You can reach Erika Musterfrau at +49 231 123456-0."  # the firm's number, not on her institute's page
    assert unsupported_contacts(wrong, PASSAGES, question) == [("+49 231 123456-0", "Erika Musterfrau")]
    right = "You can reach Erika Musterfrau's institute at 0231 98765-43."
    assert unsupported_contacts(right, PASSAGES, question) == []
    # a question that names nobody: the passage only has to state the number
    assert unsupported_contacts(wrong, PASSAGES, "How can I reach the firm?") == []


def test_the_check_of_a_draft_reports_unsupported_contacts() -> None:
    result = check_answer("Call +49 231 123456-1 [1].", PASSAGES, "en", detect_language, 2)
    assert "contact +49 231 123456-1 is not in the cited passages" in [p.describe() for p in result.problems]
    assert "+49 231 123456-1" in result.unsupported
    question = "Wie erreiche ich Frau Musterfrau?"
    result = check_answer(
        "Frau Musterfrau erreichen Sie unter +49 231 123456-0.", PASSAGES, "de", detect_language, 2, question
    )
    assert [p.describe() for p in result.problems] == [
        "contact +49 231 123456-0 is not stated for Musterfrau in the cited passages"
    ]
    assert result.unsupported == ()  # citing another passage does not mend it
    assert check_answer("Die Firma Y erreichen Sie unter +49 231 123456-0 [1].", PASSAGES, "de", detect_language, 2).ok


FIRM_DOC = f"""---
id: firm-y
title: "Firma Y"
name: "Firma Y"
kind: exhibitor
language: de
---
# Firma Y

## Kontakt
{FIRM}
"""
INSTITUTE_DOC = """---
id: institute-z
title: "Institut Z"
name: "Institut Z"
kind: research
language: de
---
# Institut Z

## Personen
Erika Musterfrau leitet das Institut Z. Sie forscht zu Greifsystemen.
"""


def _assistant(settings: Settings, tmp_path: Path, chat: FakeChatModel):
    kb = tmp_path / "kb"
    kb.mkdir()
    (kb / "firm-y.de.md").write_text(FIRM_DOC, encoding="utf-8")
    (kb / "institute-z.de.md").write_text(INSTITUTE_DOC, encoding="utf-8")
    a = build_assistant(settings, embedder=FakeEmbedder(), chat=chat)
    a.ingest([kb], progress=False)
    return a


def test_the_firms_number_is_not_given_as_a_persons(settings: Settings, tmp_path: Path) -> None:
    draft = "Frau Musterfrau erreichen Sie unter +49 231 123456-0 [{}]."
    chat = FakeChatModel([lambda m: draft.format(source_number(m, "123456"))] * 2)
    answer = _assistant(settings, tmp_path, chat).ask("Wie erreiche ich Frau Musterfrau?")
    assert answer.route == "refusal" and "123456" not in answer.answer
    assert "is not stated for Musterfrau" in answer.reason


def test_the_firms_own_number_is_given(settings: Settings, tmp_path: Path) -> None:
    chat = FakeChatModel(
        [lambda m: f"Die Firma Y erreichen Sie unter +49 231 123456-0 [{source_number(m, '123456')}]."]
    )
    answer = _assistant(settings, tmp_path, chat).ask("Wie erreiche ich die Firma Y?")
    assert answer.route == "llm" and "+49 231 123456-0" in answer.answer
