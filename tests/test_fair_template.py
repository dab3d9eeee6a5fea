"""The guide's worked example (examples/fair-template): another fair without touching code.

Its knowledge folder is ingested with the fake embedder as an organiser would (knowledge_dir set to it), and its
event profile reaches the assistant's instructions, its reply to requests off the subject, what "today" means, the
screens' texts and suggested questions, and the embed button's label.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from assistant.app import Assistant, build_assistant
from assistant.chat_models import FakeChatModel
from assistant.embedders import FakeEmbedder
from assistant.evaluation.dataset import load_dataset
from assistant.settings import Settings
from assistant.store import MemoryStore
from assistant.ui.conversation import Conversation
from tests.conftest import ROOT, source_number

TEMPLATE = ROOT / "examples" / "fair-template"


@pytest.fixture
def fair(tmp_path: Path) -> tuple[Assistant, FakeChatModel]:
    settings = Settings(
        embedder="fake",
        knowledge_dir=TEMPLATE / "knowledge",
        index_dir=tmp_path / "index",
        models_dir=tmp_path / "models",
        _env_file=None,  # type: ignore[call-arg]
    )
    chat = FakeChatModel([lambda m: f"About 25 people [{source_number(m, '25')}]."])
    assistant = build_assistant(settings, embedder=FakeEmbedder(), store=MemoryStore(), chat=chat)
    return assistant, chat


def test_the_folder_is_ingested_without_its_profile_as_a_document(fair: tuple[Assistant, FakeChatModel]) -> None:
    assistant, _ = fair
    report = assistant.ingest(progress=False)  # the knowledge_dir, as `assistant ingest` does
    assert report.skipped == [] and len(report.added) == 4
    assert not any("event.toml" in path for path in report.added)
    assert {c.doc_id for c in assistant.store.chunks()} == {"musterstadt-robotics-fair", "beispiel-greiftechnik"}
    assert assistant.event.source == str(TEMPLATE / "knowledge" / "event.toml")


def test_the_profile_words_the_instructions_and_the_reply_off_the_subject(
    fair: tuple[Assistant, FakeChatModel],
) -> None:
    assistant, chat = fair
    assistant.ingest(progress=False)
    assistant.ask("How many people did Beispiel Greiftechnik GmbH employ in 2027?")
    system = chat.calls[-1][0].content
    assert system.startswith(
        "You are the information assistant at the booth of the exhibitors from Musterstadt at the Musterstadt "
        "Robotics Fair 2030.\nRules:"
    )
    assistant.ask("Wie viele Personen beschäftigte die Beispiel Greiftechnik GmbH 2027?")
    assert chat.calls[-1][0].content.startswith(
        "Du bist der Auskunftsassistent am Messestand der Aussteller aus Musterstadt auf der Robotik-Messe "
        "Musterstadt 2030.\nRegeln:"
    )
    poem = assistant.ask("Schreib mir ein Gedicht über Roboter.")
    assert poem.refused and "Fragen zum Gemeinschaftsstand Musterstadt und seinen Ausstellern" in poem.answer


def test_today_is_the_fairs_date(fair: tuple[Assistant, FakeChatModel]) -> None:
    assistant, _ = fair
    assistant.ingest(progress=False)
    then = assistant.ask("How many people did Beispiel Greiftechnik GmbH employ in 2027?")
    assert not then.refused and "25" in then.answer
    today = assistant.ask("How many people work at Beispiel Greiftechnik GmbH today?")  # 2030, by the profile
    assert "25" not in today.answer and "the materials give this figure for 2027" in today.reason


def _handler(blocks: Any, name: str) -> Any:
    return next(fn.fn for fn in blocks.fns.values() if fn.name == name)


def test_the_screens_and_the_embed_button_are_the_fairs(fair: tuple[Assistant, FakeChatModel]) -> None:
    from assistant.ui.kiosk import build_kiosk
    from assistant.ui.mount import embed_script
    from assistant.ui.widget import build_widget

    assistant, _ = fair
    kiosk = build_kiosk(assistant, assistant.settings)
    screen = [str(part) for part in _handler(kiosk, "start")(Conversation(language="de"))]
    assert "<h1>Fragen Sie den Gemeinschaftsstand Musterstadt</h1>" in screen[1]
    assert "Robotik-Messe Musterstadt 2030: Aussteller und Termine." in screen[1]
    assert "Willkommen! Fragen Sie auf Deutsch oder Englisch." in screen[2]
    questions = assistant.event.questions("de")
    assert len(questions) == 3 and all(any(q in part for part in screen) for q in questions)
    assert kiosk.title == "Musterstadt Robotics Fair 2030 · Ask the Musterstadt joint booth"  # kiosk_language

    widget = build_widget(assistant, assistant.settings)
    request = SimpleNamespace(query_params={"lang": "en"})
    screen = [str(part) for part in _handler(widget, "start")(Conversation(language="de"), request)]
    assert "<h1>Questions about the joint booth</h1>" in screen[1]  # its own title
    assert "Musterstadt Robotics Fair 2030: exhibitors and dates." in screen[1]  # the kiosk's subtitle
    assert "When is the Musterstadt Robotics Fair 2030?" in " ".join(screen)

    assert '{"de": "Fragen zum Gemeinschaftsstand", "en": "Ask the joint booth"}' in embed_script(assistant.event)


def test_its_golden_set_is_a_valid_dataset_whose_documents_exist() -> None:
    items = load_dataset(TEMPLATE / "golden.jsonl")
    ids = {p.name.split(".")[0] for p in (TEMPLATE / "knowledge").rglob("*.md")}
    assert items and {doc for item in items for doc in item.documents} <= ids
