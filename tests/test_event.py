"""The event profile: read once from the knowledge folder's event.toml, checked with messages that name the file and
the key, and neutral (no names) when there is none."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

from assistant import prompts
from assistant.app import build_assistant
from assistant.chat_models import FakeChatModel
from assistant.embedders import FakeEmbedder
from assistant.errors import ConfigError
from assistant.event import EventProfile, EventProfileError, load_event, neutral
from assistant.settings import Settings
from assistant.store import MemoryStore
from tests.conftest import ROOT
from tests.test_names_in_data import hits, names

KNOWLEDGE = ROOT / "knowledge"


def _profile(tmp_path: Path, text: str) -> EventProfile:
    (tmp_path / "event.toml").write_text(text, encoding="utf-8")
    return load_event(tmp_path)


def test_the_knowledge_folder_s_profile_is_the_fair_s() -> None:
    event = load_event(KNOWLEDGE)
    assert event.source == str(KNOWLEDGE / "event.toml") and event.today == date(2024, 9, 9)
    assert event.present_year() == 2024
    assert event.text("title", "de") and event.text("embed_label", "en")
    assert len(event.questions("de")) == len(event.questions("en")) == 6


def test_without_a_file_the_profile_is_neutral_and_names_nothing(tmp_path: Path) -> None:
    event = load_event(tmp_path)
    assert event == neutral() and event.source is None and event.today is None
    assert event.present_year() == date.today().year
    assert event.text("title", "en") == "Ask the event assistant"
    assert event.text("subtitle", "en") == "Answers from this event's materials, with sources."
    assert event.questions("de") == () and set(event.prompt_vars("de").values()) == {""}
    rendered = [
        prompts.render("system", lang, words=80, refusal="R", event=event.prompt_vars(lang)) for lang in ("de", "en")
    ]
    rendered += [prompts.render("out_of_scope", lang, event=event.prompt_vars(lang)) for lang in ("de", "en")]
    assert rendered[1].startswith("You are the information assistant at this event.\n")
    assert rendered[0].startswith("Du bist der Auskunftsassistent auf dieser Veranstaltung.\n")
    assert "I answer questions about this event from my materials" in rendered[3]
    assert not any(hits(text, names()) for text in rendered)


def test_a_short_profile_gives_the_name_and_the_date_only(tmp_path: Path) -> None:
    event = _profile(tmp_path, 'name = { de = "Messe X 2025", en = "Fair X 2025" }\ntoday = 2025-03-31\n')
    assert event.today == date(2025, 3, 31) and event.present_year() == 2025
    system = prompts.render("system", "en", words=80, refusal="R", event=event.prompt_vars("en"))
    assert system.startswith("You are the information assistant at Fair X 2025.\n")
    assert event.text("title", "en") == neutral().text("title", "en")  # the screens stay neutral


def test_one_text_serves_both_languages_and_left_out_texts_fall_back_in_order(tmp_path: Path) -> None:
    event = _profile(tmp_path, 'name = "Expo 2030"\ntitle = { de = "Fragen?", en = "Questions?" }\n')
    assert event.name == {"de": "Expo 2030", "en": "Expo 2030"}
    assert event.text("widget_title", "de") == "Fragen?" and event.text("embed_label", "en") == "Questions?"
    event = _profile(tmp_path, 'widget_title = "Chat"\n')
    assert event.text("embed_label", "de") == "Chat" and event.text("title", "de") == neutral().text("title", "de")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("nmae = 'X'\n", "unknown key 'nmae'"),
        ("name = [1, 2]\n", "name must be a text or a table"),
        ("name = { de = 'X' }\n", "name has no en text"),
        ("name = { de = 'X', en = 'Y', fr = 'Z' }\n", "name has unknown language fr"),
        ("host = { de = '', en = 'Y' }\n", "host.de is empty"),
        ("title = { de = 3, en = 'Y' }\n", "title.de must be a text in quotes"),
        (f"scope = '{'x' * 301}'\n", "scope.de is 301 characters long; at most 300"),
        ("today = 'next Monday'\n", "today must be a date like 2025-03-31"),
        ("today = 2025-03-31T10:00:00\n", "today must be a date"),
        ("today = '2025-02-30'\n", "today is no date of the calendar"),
        ("suggestions = ['A?']\n", "suggestions must be a table"),
        ("[suggestions]\nfr = ['A?']\n", "suggestions has unknown language fr"),
        ("[suggestions]\nde = 'A?'\n", "suggestions.de must be a list"),
        ("[suggestions]\nen = [" + ", ".join(["'Q?'"] * 9) + "]\n", "suggestions.en has 9 questions; at most 8"),
        (f"[suggestions]\nen = ['Q?', '{'q' * 201}']\n", "suggestions.en, question 2 is 201 characters long"),
        ("name = 'X\n", "not valid TOML"),
    ],
)
def test_a_wrong_value_is_refused_with_the_file_and_the_key_named(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(EventProfileError, match=r"event\.toml") as raised:
        _profile(tmp_path, text)
    assert message in str(raised.value)
    assert isinstance(raised.value, ConfigError)  # the CLI's exit code 2, the API's and the UI's friendly message


def test_a_broken_profile_stops_the_build_not_the_first_visitor(tmp_path: Path) -> None:
    (tmp_path / "event.toml").write_text("today = 'soon'\n", encoding="utf-8")
    settings = Settings(embedder="fake", knowledge_dir=tmp_path, index_dir=tmp_path / "index", _env_file=None)  # type: ignore[call-arg]
    with pytest.raises(EventProfileError, match="today"):
        build_assistant(settings, embedder=FakeEmbedder(), store=MemoryStore(), chat=None)


def _assistant(settings: Settings, corpus: Path, **kw: Any) -> Any:
    a = build_assistant(settings.with_overrides(knowledge_dir=corpus), embedder=FakeEmbedder(), **kw)
    a.ingest(progress=False)
    return a


def test_the_profile_in_the_knowledge_folder_is_never_a_document(settings: Settings, corpus: Path) -> None:
    (corpus / "event.toml").write_text((KNOWLEDGE / "event.toml").read_text(encoding="utf-8"), encoding="utf-8")
    (corpus / "orgs" / "event.toml").write_text("name = 'a nested one'\n", encoding="utf-8")
    a = build_assistant(settings.with_overrides(knowledge_dir=corpus), embedder=FakeEmbedder())
    report = a.ingest(progress=False)
    assert report.skipped == [] and len(report.added) == 3
    assert not any("event.toml" in c.document for c in a.store.chunks())
    assert a.event.text("title", "en") == load_event(KNOWLEDGE).text("title", "en")


def test_the_reply_off_the_subject_and_the_instructions_name_the_profile_s_fair(
    settings: Settings, corpus: Path
) -> None:
    (corpus / "event.toml").write_text(
        'name = "Expo 2030"\nplace = "Berlin"\nhost = { de = "des Vereins X", en = "Club X" }\n'
        'scope = { de = "Fragen zum Verein X", en = "questions about Club X" }\n',
        encoding="utf-8",
    )
    chat = FakeChatModel(["Hi"])
    a = _assistant(settings, corpus, chat=chat)
    assert "Fragen zum Verein X aus meinen Unterlagen" in a.ask("Schreib ein Gedicht über Roboter.").answer
    assert "questions about Club X from my materials" in a.ask("Write a poem about robots.").answer
    a.answerer.warm_up()  # the instructions of both languages, once each
    systems = [call[0].content.splitlines()[0] for call in chat.calls]
    assert systems == [
        "Du bist der Auskunftsassistent am Messestand des Vereins X auf der Expo 2030 in Berlin.",
        "You are the information assistant at the booth of Club X at Expo 2030 in Berlin.",
    ]


def test_without_a_profile_the_screens_are_neutral_and_show_no_suggestions(settings: Settings, corpus: Path) -> None:
    from types import SimpleNamespace

    from assistant.ui.conversation import Conversation
    from assistant.ui.kiosk import build_kiosk
    from assistant.ui.mount import embed_script
    from assistant.ui.widget import build_widget

    a = _assistant(settings, corpus)  # the test corpus has no event.toml
    kiosk, widget = build_kiosk(a, a.settings), build_widget(a, a.settings)
    start = next(fn.fn for fn in kiosk.fns.values() if fn.name == "start")
    screen = [str(part) for part in start(Conversation(language="en"))]
    assert "<h1>Ask the event assistant</h1><p>Answers from this event&#x27;s materials, with sources.</p>" in screen[1]
    assert "fa-greeting" in screen[2] and "fa-attract-title" not in screen[2]  # no "For example:" without examples
    assert kiosk.title == "Ask the event assistant" and not any(hits(part, names()) for part in screen)
    start = next(fn.fn for fn in widget.fns.values() if fn.name == "start")
    screen = [str(part) for part in start(Conversation(language="en"), SimpleNamespace(query_params={"lang": "de"}))]
    assert "<h1>Fragen Sie den Messe-Assistenten</h1>" in screen[1]
    assert '{"de": "Fragen Sie den Messe-Assistenten", "en": "Ask the event assistant"}' in embed_script(a.event)


def test_the_embed_label_cannot_break_out_of_the_script(tmp_path: Path) -> None:
    from assistant.ui.mount import embed_script

    event = _profile(tmp_path, r'embed_label = { de = "Frag\" </script><script>alert(1)//", en = "Über „uns“" }' + "\n")
    labels = next(line for line in embed_script(event).splitlines() if "const labels" in line)
    assert labels == (
        '  const labels = {"de": "Frag\\" \\u003c/script>\\u003cscript>alert(1)//", '
        '"en": "\\u00dcber \\u201euns\\u201c"};'
    )


def test_a_prompt_with_variables_is_not_taken_as_a_fixed_sentence() -> None:
    with pytest.raises(ValueError, match="render"):
        prompts.text("out_of_scope", "en")
