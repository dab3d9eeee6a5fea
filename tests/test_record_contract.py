"""One suite that the record passes on every database it supports: the SQLite file (the default) and a real
PostgreSQL server that the tests start themselves (Debian's package, on loopback; see conftest.postgres_server)."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import inspect, select

from assistant.api import create_app
from assistant.app import build_assistant
from assistant.chat_models import FakeChatModel
from assistant.embedders import FakeEmbedder
from assistant.record import RecordRow, RecordStore
from assistant.record.schema import SCHEMA_VERSION, NewerSchema, migrate, questions, schema_version
from assistant.record.store import database_url
from assistant.settings import Settings
from assistant.store import MemoryStore
from tests.conftest import new_postgres_database, source_number

T0 = datetime(2024, 9, 9, 10, 0)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.slow)])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return database_url(Settings(embedder="fake", index_dir=tmp_path / "index"))
    return new_postgres_database(request.getfixturevalue("postgres_server"))


@pytest.fixture
def store(url: str):
    opened = RecordStore.open(url)
    yield opened
    opened.close()


def _row(i: int, **changes) -> RecordRow:
    values = dict(
        answer_id=f"a{i}",
        conversation_id="c1",
        turn=i,
        asked_at=T0 + timedelta(minutes=15 * i),
        surface="kiosk",
        language="de",
        question=f"Frage {i} – äöü?",
        answer=f"Antwort {i} [1].",
        route="llm",
        refused=False,
        reason="",
        retrieved=True,
        documents=({"document": "orgs/grip.de.md", "title": "GRIP GmbH"},),
        organisations=("GRIP GmbH",),
        retrieve_ms=12.5,
        first_token_ms=300.0,
        total_ms=1500.25,
    )
    values.update(changes)
    return RecordRow(**values)


def test_the_schema_is_created_once_and_versioned(store: RecordStore, url: str) -> None:
    with store.engine.connect() as conn:
        assert conn.execute(select(schema_version.c.version)).scalars().all() == [SCHEMA_VERSION]
    assert migrate(store.engine) == SCHEMA_VERSION  # a second start finds it up to date and changes nothing
    with store.engine.connect() as conn:
        assert conn.execute(select(schema_version.c.version)).scalars().all() == [SCHEMA_VERSION]
    assert set(inspect(store.engine).get_table_names()) == {"record_schema", "questions"}


def test_a_database_of_a_newer_release_is_refused_with_a_sentence(store: RecordStore) -> None:
    with store.engine.begin() as conn:
        conn.execute(schema_version.update().values(version=SCHEMA_VERSION + 1))
    with pytest.raises(NewerSchema, match="Update the assistant"):
        migrate(store.engine)


def test_rows_come_back_as_written_within_the_period(store: RecordStore) -> None:
    rows = [_row(i) for i in range(4)]
    store.add(rows[2])
    store.add_many([rows[0], rows[1], rows[3]])
    assert store.rows(T0) == rows
    assert store.rows(T0 + timedelta(minutes=15), until=T0 + timedelta(minutes=45)) == rows[1:3]


def test_a_rating_is_stored_changed_and_refused_for_unknown_answers(store: RecordStore) -> None:
    store.add(_row(0))
    assert store.rate("a0", "down", "incomplete") is True
    assert (store.rows(T0)[0].rating, store.rows(T0)[0].feedback_reason) == ("down", "incomplete")
    assert store.rate("a0", "up", None) is True
    assert (store.rows(T0)[0].rating, store.rows(T0)[0].feedback_reason) == ("up", None)
    assert store.rate("nope", "up", None) is False


def test_expired_rows_are_deleted_and_conversations_found(store: RecordStore) -> None:
    store.add_many([_row(0), _row(1), _row(2, conversation_id="c2")])
    assert store.delete_before(T0 + timedelta(minutes=15)) == 1
    assert [r.answer_id for r in store.rows(T0 - timedelta(days=1))] == ["a1", "a2"]
    assert store.conversation_of("a2") == ("c2", 2) and store.conversation_of("a0") is None


def test_no_column_could_identify_a_visitor(store: RecordStore) -> None:
    columns = {c["name"] for c in inspect(store.engine).get_columns("questions")}
    assert not {c for c in columns if any(w in c for w in ("ip", "addr", "cookie", "session", "user", "agent"))}


def test_a_question_is_recorded_without_the_visitors_e_mail_phone_and_name(
    url: str, tmp_path: Path, corpus: Path
) -> None:
    """The issue's privacy test, through the real factories and the API: what the database holds afterwards."""
    settings = Settings(embedder="fake", index_dir=tmp_path / "index", database_url=url)
    chat = FakeChatModel([lambda m: f"IMTS was first held in Cleveland in 1927 [{source_number(m, '1927')}]."])
    assistant = build_assistant(settings, embedder=FakeEmbedder(), store=MemoryStore(), chat=chat)
    assistant.ingest([corpus], progress=False)
    question = (
        "Hi, my name is Jolanda Wexford-Pryce, jolanda.pryce@example.com or +49 231 98765432. "
        "When was IMTS first held, and does Hasan Canti attend?"
    )
    response = TestClient(create_app(assistant, settings)).post("/api/chat", json={"question": question})
    assert response.status_code == 200
    assert assistant.recorder is not None
    with assistant.recorder.store().engine.connect() as conn:
        (row,) = [dict(r._mapping) for r in conn.execute(select(questions))]
    held = " ".join(str(v) for v in row.values())
    for personal in ("Jolanda", "Wexford", "Pryce", "jolanda", "example.com", "98765432", "231"):
        assert personal not in held, personal
    assert row["question"] == (
        "Hi, my name is [name], [e-mail] or [phone]. When was IMTS first held, and does Hasan Canti attend?"
    )  # the knowledge base's own person stays: that is what was asked about
    assert row["answer_id"] == response.json()["answer_id"] and row["surface"] == "api"
    assert row["asked_at"].minute % 15 == 0 and row["asked_at"].second == 0
