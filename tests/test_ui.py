"""The screens' pure parts: texts, escaping and links, the conversation loop and its idle reset (no gradio)."""

from __future__ import annotations

import logging
import re
import threading
from datetime import datetime
from pathlib import Path

import pytest

from assistant import prompts
from assistant.app import Assistant, build_assistant
from assistant.chat_models import FakeChatModel
from assistant.embedders import FakeEmbedder
from assistant.errors import ChatBackendError, IndexEmpty
from assistant.event import load_event
from assistant.settings import Settings
from assistant.store import MemoryStore
from assistant.types import Source
from assistant.ui.conversation import HISTORY_TURNS, Conversation, rate, stream_answer
from assistant.ui.render import Exchange, qr_svg, render_conversation, safe_url
from assistant.ui.texts import LANGUAGES, TEXTS, language, text
from tests.conftest import ROOT
from tests.screens_support import scripted_reply

HOSTILE = "<script>alert(1)</script><img src=x onerror=alert(2)>"


def _source(n: int = 1, url: str = "https://www.tu-dortmund.de/", **kw: str) -> Source:
    fields = {
        "title": "TU Dortmund",
        "document": "tu.de.md",
        "organisation": "TU Dortmund",
        "snippet": "Gegründet 1968.",
    }
    fields.update(kw)
    return Source(n=n, url=url, language="de", **fields)  # type: ignore[arg-type]


def _done(*sources: Source, answer: str = "Die TU Dortmund wurde 1968 gegründet [1].") -> Exchange:
    return Exchange("Wann wurde die TU gegründet?", "de", answer=answer, status="done", sources=sources)


# --- texts --------------------------------------------------------------------------------------------------


def test_every_text_and_suggestion_exists_in_both_languages() -> None:
    for key, variants in TEXTS.items():
        assert set(variants) == set(LANGUAGES), key
        assert all(v.strip() for v in variants.values()), key
    suggestions = load_event(ROOT / "knowledge").suggestions  # the fair's, from its profile
    assert len(suggestions["de"]) == len(suggestions["en"])
    assert 4 <= len(suggestions["de"]) <= 6
    assert all(q.endswith("?") for lang in LANGUAGES for q in suggestions[lang])
    assert text("idle_body", "de", seconds=7) == "Das Gespräch wird in 7 Sekunden gelöscht."


@pytest.mark.parametrize(
    ("value", "expected"), [("de", "de"), ("de-DE", "de"), ("EN-us", "en"), ("fr", "en"), ("", "en"), (None, "en")]
)
def test_a_page_language_maps_to_german_or_english(value: object, expected: str) -> None:
    assert language(value, default="en") == expected


# --- rendering ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "/relative/path",
        "//evil.example/x",
        "https://",
        "ftp://example.org/",
        'https://example.org/"onmouseover="alert(1)',
        "https://example.org/<script>",
        "https://exa mple.org/",
        "",
    ],
)
def test_only_plain_http_urls_become_links(url: str) -> None:
    assert safe_url(url) is None


def test_http_and_https_urls_are_kept() -> None:
    assert safe_url(" https://www.tu-dortmund.de/ ") == "https://www.tu-dortmund.de/"
    assert safe_url("http://example.org/a?b=1&c=2#d") == "http://example.org/a?b=1&c=2#d"


def test_every_text_from_documents_model_and_visitor_is_escaped() -> None:
    hostile_source = _source(title=HOSTILE, organisation=HOSTILE, snippet=HOSTILE, url="javascript:alert(3)")
    exchange = Exchange(HOSTILE, "de", answer=f"Antwort {HOSTILE} [1]", status="done", sources=(hostile_source,))
    for mode in ("kiosk", "widget"):
        html = render_conversation([exchange], "de", mode)  # type: ignore[arg-type]
        assert "<script" not in html and "<img" not in html
        assert not re.search(r"<[^>]*\son\w+=", html)  # no tag carries an event handler
        assert "&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;" in html
        assert "javascript:" not in html and "<a " not in html
        assert "\n" not in html  # one line: Markdown never gets to read any of it


def test_kiosk_source_chip_opens_a_card_with_the_url_as_text_and_a_qr_code_never_a_link() -> None:
    html = render_conversation([_done(_source())], "de", "kiosk")
    card = re.search(r'<details class="fa-chip".*?</details>', html)
    assert card is not None
    assert '<summary><span class="fa-n">1</span> TU Dortmund</summary>' in card.group()
    assert "Organisation:</span> TU Dortmund" in card.group() and "Gegründet 1968." in card.group()
    assert "https://www.tu-dortmund.de/" in card.group() and "<svg" in card.group() and "QR-Code" in card.group()
    assert "<a " not in html and "href" not in html


def test_a_source_without_a_valid_website_gets_no_qr_code() -> None:
    html = render_conversation([_done(_source(url="javascript:alert(1)"))], "en", "kiosk")
    assert "No website given." not in html  # the exchange's own language counts, German here
    assert "Keine Website angegeben." in html and "<svg" not in html


def test_qr_code_is_an_inline_svg_with_an_accessible_name() -> None:
    svg = qr_svg("https://www.tu-dortmund.de/", "QR <code>")
    assert svg.startswith('<svg role="img" ') and "<title>QR &lt;code&gt;</title>" in svg and "<path" in svg
    assert qr_svg("https://a.example/", "x") != qr_svg("https://b.example/", "x")


def test_widget_sources_are_links_to_their_websites_in_a_new_tab_without_referrer() -> None:
    html = render_conversation([_done(_source(), _source(2, url="", title="Artikel"))], "de", "widget")
    assert html.count("<a ") == 1
    assert '<a href="https://www.tu-dortmund.de/" target="_blank" rel="noopener noreferrer"' in html
    assert '<span class="fa-n">2</span> Artikel' in html  # no website: the title as text


def test_the_status_of_an_exchange_is_shown_in_its_language() -> None:
    queued = Exchange("Frage?", "de", status="queued", ahead=2)
    thinking = Exchange("Question?", "en", status="thinking")
    html = render_conversation([queued, thinking], "en", "kiosk")
    assert "Warteschlange: 2 Frage(n) vor Ihnen" in html and "searching the materials" in html
    assert 'lang="en"' in html and '<section class="fa-turn fa-queued" lang="de">' in html


# --- the conversation loop ----------------------------------------------------------------------------------


@pytest.fixture
def assistant(settings: Settings, corpus: Path) -> Assistant:
    a = build_assistant(settings, embedder=FakeEmbedder(), store=MemoryStore(), chat=FakeChatModel([scripted_reply]))
    a.ingest([corpus], progress=False)
    return a


def test_an_answer_streams_into_the_conversation_with_its_sources(assistant: Assistant) -> None:
    conv = Conversation(language="de")
    seen = [(e.status, e.answer) for e in stream_answer(assistant, conv, "Was entwickelt die GRIP GmbH?", "de")]
    statuses = [s for s, _ in seen]
    assert statuses[0] == "thinking" and statuses[-1] == "done" and statuses.count("streaming") > 3
    assert seen[3][1] and len(seen[3][1]) < len(seen[-1][1])  # token by token
    (exchange,) = conv.exchanges
    assert exchange.answer.startswith("Die GRIP GmbH") and exchange.sources[0].title.startswith("GRIP")
    assert [t.role for t in conv.history] == ["user", "assistant"] and not conv.busy


def test_the_switch_forces_the_answer_language(assistant: Assistant) -> None:
    conv = Conversation(language="en")
    *_, exchange = stream_answer(assistant, conv, "When was IMTS first held?", "de")
    assert exchange.language == "de"
    assert exchange.answer == prompts.text("refusal", "de")  # the scripted model answers IMTS only in English


def test_history_carries_only_the_last_turns(assistant: Assistant) -> None:
    conv = Conversation(language="en")
    for _ in range(5):
        list(stream_answer(assistant, conv, "When was IMTS first held?", "en"))
    assert len(conv.history) == HISTORY_TURNS and len(conv.exchanges) == 5


def test_a_rejected_question_shows_its_polite_message(assistant: Assistant) -> None:
    conv = Conversation(language="de")
    *_, exchange = stream_answer(assistant, conv, "x" * 2000, "de")
    assert exchange.status == "error" and "Die Frage ist zu lang" in exchange.answer
    assert len(exchange.question) <= 1000 and not conv.busy


@pytest.mark.parametrize("error", [IndexEmpty(), RuntimeError("Traceback (most recent call last): secret")])
def test_failures_show_a_friendly_message_never_a_traceback_and_log_no_question(
    assistant: Assistant, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, error: Exception
) -> None:
    def broken(*args: object, **kw: object):
        raise error

    monkeypatch.setattr(assistant.answerer, "stream", broken)
    conv = Conversation(language="en")
    with caplog.at_level(logging.DEBUG):
        *_, exchange = stream_answer(assistant, conv, "Where is Hasan Canti today?", "en")
    assert exchange.status == "error" and exchange.answer == text("error", "en")
    assert "Traceback" not in render_conversation(conv.exchanges, "en", "kiosk") and not conv.busy
    assert caplog.records and "Hasan" not in caplog.text  # the failure is logged, the question is not


def test_a_dead_chat_backend_still_gives_the_quoted_answer(settings: Settings, corpus: Path) -> None:
    chat = FakeChatModel(fail=ChatBackendError("cannot connect"))
    a = build_assistant(settings, embedder=FakeEmbedder(), store=MemoryStore(), chat=chat)
    a.ingest([corpus], progress=False)
    *_, exchange = stream_answer(a, Conversation(language="en"), "When was IMTS first held?", "en")
    assert exchange.status == "done" and exchange.answer and exchange.sources


def test_a_question_waiting_for_the_model_shows_the_queue(assistant: Assistant) -> None:
    conv = Conversation(language="en")
    with assistant.answerer._slot():  # someone else's answer is being generated
        events = stream_answer(assistant, conv, "When was IMTS first held?", "en")
        first = next(events)
        assert first.status == "queued" and first.ahead == 1
        assert "in the queue" in render_conversation(conv.exchanges, "en", "kiosk")
        events.close()
    assert not conv.busy


def test_a_second_question_while_one_is_answered_is_ignored(assistant: Assistant) -> None:
    conv = Conversation(language="en")
    first = stream_answer(assistant, conv, "When was IMTS first held?", "en")
    next(first)
    assert list(stream_answer(assistant, conv, "Another?", "en")) == [] and len(conv.exchanges) == 1
    first.close()


def test_reset_mid_answer_keeps_nothing_for_the_next_visitor(settings: Settings, corpus: Path) -> None:
    chat = FakeChatModel([scripted_reply], delay_s=0.01)
    a = build_assistant(settings, embedder=FakeEmbedder(), store=MemoryStore(), chat=chat)
    a.ingest([corpus], progress=False)
    conv = Conversation(language="en")
    events = stream_answer(a, conv, "When was IMTS first held?", "en")
    next(events), next(events)
    conv.reset()
    rest = list(events)
    assert rest == [] and conv.exchanges == [] and conv.history == [] and not conv.busy
    assert not a.answerer.busy  # the generation slot was given back


# --- the idle reset -----------------------------------------------------------------------------------------


def test_reset_forgets_everything_and_can_restore_the_default_language(assistant: Assistant) -> None:
    conv = Conversation(language="en")
    list(stream_answer(assistant, conv, "When was IMTS first held?", "de"))
    conv.language = "de"
    conv.reset(language="en")
    assert (conv.exchanges, conv.history, conv.language, conv.busy) == ([], [], "en", False)


def test_expire_clears_only_an_idle_conversation_with_something_in_it(assistant: Assistant) -> None:
    conv = Conversation(language="en")
    start = conv.last_active
    assert not conv.expire(60, now=start + 1000)  # nothing to clear
    list(stream_answer(assistant, conv, "When was IMTS first held?", "en"))
    start = conv.last_active
    assert not conv.expire(60, now=start + 59) and conv.exchanges
    conv.busy = True
    assert not conv.expire(60, now=start + 600)  # never in the middle of an answer
    conv.busy = False
    assert conv.expire(60, now=start + 60) and conv.exchanges == [] and conv.history == []


def test_conversations_are_separate_per_session(assistant: Assistant) -> None:
    one, two = Conversation(language="en"), Conversation(language="en")
    threads = [
        threading.Thread(target=lambda c=c: list(stream_answer(assistant, c, "When was IMTS first held?", "en")))
        for c in (one, two)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert len(one.exchanges) == len(two.exchanges) == 1 and one.exchanges[0] is not two.exchanges[0]


# --- thumbs under an answer ---------------------------------------------------------------------------------


def _rated_row(assistant: Assistant):
    assert assistant.recorder is not None
    (row,) = assistant.recorder.store().rows(datetime(2000, 1, 1))
    return row


def test_an_answer_has_thumbs_with_visible_names_and_no_record_id(assistant: Assistant) -> None:
    conv = Conversation(language="de")
    list(stream_answer(assistant, conv, "Was entwickelt die GRIP GmbH?", "de", "kiosk"))
    (ex,) = conv.exchanges
    html = render_conversation(conv.exchanges, "de", "kiosk")
    assert "War diese Antwort hilfreich?" in html and ex.answer_id not in html  # the record's id stays on the server
    assert f'<button type="button" class="fa-rate fa-rate-up" value="{ex.key}:up">' in html
    assert "<span>Hilfreich</span>" in html and "<span>Nicht hilfreich</span>" in html
    assert "fa-reasons" not in html and "fa-thanks" not in html and "<input" not in html and "<textarea" not in html


def test_thumbs_down_is_recorded_thanked_and_offers_the_fixed_reasons(assistant: Assistant) -> None:
    conv = Conversation(language="en")
    list(stream_answer(assistant, conv, "When was IMTS first held?", "en", "widget"))
    (ex,) = conv.exchanges
    assert not rate(assistant, conv, f"{ex.key}:wrong")  # a reason only follows a thumbs down
    assert rate(assistant, conv, f"{ex.key}:down")
    assert (_rated_row(assistant).rating, _rated_row(assistant).feedback_reason) == ("down", None)
    html = render_conversation(conv.exchanges, "en", "widget")
    assert '<p class="fa-thanks">Thanks for your feedback</p>' in html
    assert f'class="fa-rate fa-rate-down fa-pressed" value="{ex.key}:down"' in html
    reasons = re.findall(r'class="fa-rate fa-rate-\w+" value="\w+:(\w+)"><span>([^<]+)</span>', html)
    assert reasons == [
        ("wrong", "Wrong"),
        ("incomplete", "Incomplete"),
        ("not_my_language", "Not my language"),
        ("did_not_answer", "Did not answer"),
    ]
    assert rate(assistant, conv, f"{ex.key}:not_my_language")
    assert (_rated_row(assistant).rating, _rated_row(assistant).feedback_reason) == ("down", "not_my_language")
    assert not rate(assistant, conv, f"{ex.key}:free text from a visitor")


def test_a_rating_after_the_reset_never_reaches_the_next_visitor(assistant: Assistant) -> None:
    conv = Conversation(language="en")
    list(stream_answer(assistant, conv, "When was IMTS first held?", "en", "kiosk"))
    old = conv.exchanges[0].key
    conv.reset()  # the idle reset: the next visitor
    list(stream_answer(assistant, conv, "When was IMTS first held?", "en", "kiosk"))
    assert not rate(assistant, conv, f"{old}:down")  # the last visitor's page pressed late
    assert conv.exchanges[0].rating is None
    assert assistant.recorder is not None
    assert [r.rating for r in assistant.recorder.store().rows(datetime(2000, 1, 1))] == [None, None]


def test_without_recording_there_are_no_thumbs(settings: Settings, corpus: Path) -> None:
    a = build_assistant(
        settings.with_overrides(record_questions=False),
        embedder=FakeEmbedder(),
        store=MemoryStore(),
        chat=FakeChatModel([scripted_reply]),
    )
    a.ingest([corpus], progress=False)
    conv = Conversation(language="en")
    list(stream_answer(a, conv, "When was IMTS first held?", "en"))
    assert "fa-rate" not in render_conversation(conv.exchanges, "en", "kiosk")
    assert not rate(a, conv, f"{conv.exchanges[0].key}:up")
