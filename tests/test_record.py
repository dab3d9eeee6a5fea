"""The anonymous record: scrubbing, the quarter hour, retention, a failing database, and how the API and the
screens hand their answers to it (SQLite; the same store on PostgreSQL: test_record_contract.py)."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from assistant.api import create_app
from assistant.app import Assistant, build_assistant
from assistant.chat_models import FakeChatModel
from assistant.embedders import FakeEmbedder
from assistant.record import RecordStore
from assistant.record.recorder import Recorder, quarter_hour
from assistant.record.scrub import Scrubber, name_sequences
from assistant.settings import Settings
from assistant.store import MemoryStore
from assistant.ui.conversation import Conversation, stream_answer
from tests.conftest import BVB_EN, FAIR_EN, GRIP_DE, source_number

KNOWN = name_sequences([GRIP_DE, FAIR_EN, BVB_EN])
scrub = Scrubber(lambda: KNOWN)
QUESTION = "When was IMTS first held?"


# --- what is removed -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Schreiben Sie an max.muster@firma-x.de bitte", "Schreiben Sie an [e-mail] bitte"),
        ("Ruf mich an: 0231 1234567.", "Ruf mich an: [phone]."),
        ("call +1 (312) 555-0199 please", "call [phone] please"),
        ("my number is 312-555-0199", "my number is [phone]"),
        ("Handy 0170/9876543", "Handy [phone]"),
        ("Ich bin Jolanda Wexford, wo ist Halle 5?", "Ich bin [name], wo ist Halle 5?"),
        ("Mein Name ist Pia von Ostersee und ich suche GRIP.", "Mein Name ist [name] und ich suche GRIP."),
        ("Hi, I'm Tobias. Where is the booth?", "Hi, I'm [name]. Where is the booth?"),
        ("my name is Ada Quell", "my name is [name]"),
        ("Ist Frau Brenninkmeyer am Stand?", "Ist Frau [name] am Stand?"),
        ("Is Mr. Okonkwo here?", "Is Mr. [name] here?"),
        ("Wo ist der Stand? Viele Grüße, Ute Kranich", "Wo ist der Stand? Viele Grüße, [name]"),
        ("Where do I park? Thanks, Bo", "Where do I park? Thanks, [name]"),
        # a person named anywhere, as the private-data decline finds names (two or three capitalised name words)
        ("Is Jolanda Wexford at the booth today?", "Is [name] at the booth today?"),
        ("Kennt jemand Ute Kranich aus Köln?", "Kennt jemand [name] aus Köln?"),
    ],
)
def test_personal_data_is_removed(text: str, expected: str) -> None:
    assert scrub(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Wer leitet die GRIP GmbH? Ist Hasan Canti am Stand?",  # the knowledge base's people stay
        "Is Mr Lingenhoff in Chicago?",
        "I am looking for robot grippers in Hall 12, booth 0123.",  # lowercase after "I am"; a short number
        "Wie viele Besucher hatte IMTS 2024? 89,020 oder 1.000.000?",
        "Was war am 09.09.2024 und am 2024-09-14?",
        "Gibt es Aussteller im Bereich Künstliche Intelligenz?",  # "im" is no "I'm"
        "Ich bin auf der Suche nach Robotik-Zubehör.",
        "Where is Borussia Dortmund New York office?",
    ],
)
def test_questions_without_personal_data_stay_as_they_are(text: str) -> None:
    assert scrub(text) == text


def test_a_name_known_only_in_part_is_still_removed() -> None:
    assert scrub("I am Marc Quibble") == "I am [name]"  # "Marc" is in the materials, "Marc Quibble" is not
    assert scrub("I am Marc Lingenhoff") == "I am Marc Lingenhoff"


def test_times_are_rounded_down_to_the_quarter_hour() -> None:
    assert quarter_hour(datetime(2024, 9, 9, 10, 44, 59, 999, tzinfo=UTC)) == datetime(2024, 9, 9, 10, 30)
    assert quarter_hour(datetime(2024, 9, 9, 12, 0, 1, tzinfo=UTC)) == datetime(2024, 9, 9, 12, 0)


# --- the record through the real factories -----------------------------------------------------------------


def _assistant(settings: Settings, corpus: Path, **overrides) -> Assistant:
    settings = settings.with_overrides(**overrides)
    chat = FakeChatModel([lambda m: f"IMTS was first held in Cleveland in 1927 [{source_number(m, '1927')}]."])
    a = build_assistant(settings, embedder=FakeEmbedder(), store=MemoryStore(), chat=chat)
    a.ingest([corpus], progress=False)
    return a


def _rows(a: Assistant):
    assert a.recorder is not None
    return a.recorder.store().rows(datetime(2000, 1, 1))


def test_recording_is_on_by_default_in_a_sqlite_file_in_wal_mode(settings: Settings, corpus: Path) -> None:
    a = _assistant(settings, corpus)
    client = TestClient(create_app(a, a.settings))
    answer_id = client.post("/api/chat", json={"question": QUESTION}).json()["answer_id"]
    (row,) = _rows(a)
    assert (row.answer_id, row.surface, row.language, row.route, row.turn) == (answer_id, "api", "en", "llm", 0)
    assert row.organisations == ("IMTS 2024",) and row.documents[0]["document"].endswith("imts-2024.en.md")
    assert row.total_ms is not None and row.first_token_ms is not None and row.retrieved
    database = settings.index_dir.parent / "record.sqlite3"
    assert database.exists()
    with a.recorder.store().engine.connect() as conn:  # type: ignore[union-attr]
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"


def test_follow_ups_share_a_conversation_that_is_never_shown(settings: Settings, corpus: Path) -> None:
    a = _assistant(settings, corpus)
    client = TestClient(create_app(a, a.settings))
    first = client.post("/api/chat", json={"question": QUESTION}).json()
    history = [{"role": "user", "content": QUESTION}, {"role": "assistant", "content": first["answer"]}]
    body = {"question": "And where?", "history": history, "follows": first["answer_id"]}
    second = client.post("/api/chat", json=body).json()
    other = client.post("/api/chat", json={"question": QUESTION}).json()
    rows = {r.answer_id: r for r in _rows(a)}
    assert rows[first["answer_id"]].conversation_id == rows[second["answer_id"]].conversation_id
    assert rows[other["answer_id"]].conversation_id != rows[first["answer_id"]].conversation_id
    assert rows[second["answer_id"]].turn == 1
    conversation = rows[first["answer_id"]].conversation_id
    assert all(conversation not in json.dumps(r) for r in (first, second, other))


def test_a_stream_carries_the_answer_id_in_its_last_event(settings: Settings, corpus: Path) -> None:
    a = _assistant(settings, corpus)
    client = TestClient(create_app(a, a.settings))
    with client.stream("POST", "/api/chat", json={"question": QUESTION}, headers={"Accept": "text/event-stream"}) as r:
        done = [line for line in r.iter_lines() if line.startswith("data: ") and '"answer_id"' in line]
    (row,) = _rows(a)
    assert json.loads(done[-1].removeprefix("data: "))["answer_id"] == row.answer_id


def test_switched_off_nothing_is_recorded_and_answers_still_carry_an_id(settings: Settings, corpus: Path) -> None:
    a = _assistant(settings, corpus, record_questions=False)
    client = TestClient(create_app(a, a.settings))
    response = client.post("/api/chat", json={"question": QUESTION})
    assert response.status_code == 200 and len(response.json()["answer_id"]) == 32
    assert a.recorder is None and not (settings.index_dir.parent / "record.sqlite3").exists()
    feedback = client.post("/api/feedback", json={"answer_id": response.json()["answer_id"], "rating": "up"})
    assert feedback.status_code == 404 and "not recorded" in feedback.json()["error"]


def test_a_dead_database_drops_the_record_counts_it_and_logs_once(
    settings: Settings, corpus: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "blocked").write_text("a file where a folder should be")
    a = _assistant(settings, corpus, database_url=f"sqlite:///{tmp_path / 'blocked' / 'record.sqlite3'}")
    client = TestClient(create_app(a, a.settings))
    secret = "Wexford"
    with caplog.at_level(logging.WARNING, logger="assistant.record"):
        for _ in range(3):
            response = client.post("/api/chat", json={"question": f"{QUESTION} I am {secret}"})
            assert response.status_code == 200 and "1927" in response.json()["answer"]
    assert a.recorder is not None and a.recorder.dropped == 3
    warnings = [r for r in caplog.records if r.name == "assistant.record"]
    assert len(warnings) == 1 and "dropped and counted" in warnings[0].getMessage()
    assert secret not in caplog.text and QUESTION not in caplog.text


def test_expired_rows_go_at_start_up_and_daily(tmp_path: Path) -> None:
    now = [datetime(2024, 10, 30, 12, 0, tzinfo=UTC)]
    url = f"sqlite:///{tmp_path / 'r.sqlite3'}"
    recorder = Recorder(lambda: RecordStore.open(url), Scrubber(), retention_days=30, clock=lambda: now[0])
    from tests.test_record_contract import _row

    old, fresh = datetime(2024, 9, 29, 11, 45), datetime(2024, 9, 30, 12, 0)
    recorder.store().add_many([_row(0, asked_at=old), _row(1, asked_at=fresh)])
    assert recorder.purge_if_due() == 1  # the first use is the start-up
    now[0] += timedelta(hours=23)
    assert recorder.purge_if_due() is None  # not again within the day
    now[0] += timedelta(hours=1)
    assert recorder.purge_if_due() == 1
    assert recorder.store().rows(datetime(2000, 1, 1)) == []


# --- feedback -------------------------------------------------------------------------------------------------


def test_feedback_is_stored_with_its_reason(settings: Settings, corpus: Path) -> None:
    a = _assistant(settings, corpus)
    client = TestClient(create_app(a, a.settings))
    answer_id = client.post("/api/chat", json={"question": QUESTION}).json()["answer_id"]
    body = {"answer_id": answer_id, "rating": "down", "reason": "not_my_language"}
    assert client.post("/api/feedback", json=body).json() == {"ok": True}
    (row,) = _rows(a)
    assert (row.rating, row.feedback_reason) == ("down", "not_my_language")
    assert client.post("/api/feedback", json={"answer_id": answer_id, "rating": "up"}).status_code == 200
    assert _rows(a)[0].rating == "up"


@pytest.mark.parametrize(
    ("body", "status", "says"),
    [
        ({"answer_id": "x", "rating": "meh"}, 422, "rating: Input should be 'up' or 'down'"),
        ({"answer_id": "x", "rating": "down", "reason": "rude"}, 422, "reason: Input should be 'wrong'"),
        ({"answer_id": "x", "rating": "up", "reason": "wrong"}, 422, "only given with a rating of down"),
        ({"rating": "up"}, 422, "answer_id: Field required"),
        ({"answer_id": "0" * 32, "rating": "up"}, 404, "No recorded answer has this answer_id"),
    ],
)
def test_bad_feedback_gets_a_readable_4xx(settings: Settings, corpus: Path, body: dict, status: int, says: str) -> None:
    a = _assistant(settings, corpus)
    response = TestClient(create_app(a, a.settings)).post("/api/feedback", json=body)
    assert response.status_code == status and says in response.json()["error"]


# --- the screens ------------------------------------------------------------------------------------------------


def test_a_screen_records_its_answers_under_one_conversation_until_reset(settings: Settings, corpus: Path) -> None:
    a = _assistant(settings, corpus)
    conv = Conversation(language="en")
    *_, first = stream_answer(a, conv, QUESTION, None, "widget")
    *_, second = stream_answer(a, conv, "And where was it?", None, "widget")
    conv.reset()
    *_, third = stream_answer(a, conv, QUESTION, None, "widget")
    rows = {r.answer_id: r for r in _rows(a)}
    assert set(rows) == {first.answer_id, second.answer_id, third.answer_id}
    assert rows[first.answer_id].conversation_id == rows[second.answer_id].conversation_id
    assert rows[third.answer_id].conversation_id != rows[first.answer_id].conversation_id
    assert [rows[e.answer_id].turn for e in (first, second, third)] == [0, 1, 0]
    assert {r.surface for r in rows.values()} == {"widget"}
