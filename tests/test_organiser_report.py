"""The organisers' report: content-gap groups, the tables, the self-contained page, the stubs and `assistant report`."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import ClassVar

import pytest

from assistant import cli
from assistant.app import build_assistant
from assistant.embedders import FakeEmbedder
from assistant.event import EventProfile
from assistant.organiser.gaps import group_gaps, is_gap
from assistant.organiser.report import build_report, write_report
from assistant.organiser.summary import percentile, summarise
from assistant.organiser.tables import Table
from assistant.record import RecordRow, RecordStore, database_url
from assistant.settings import Settings
from assistant.store import MemoryStore

DAY = datetime(2024, 9, 9, 9, 0)
HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'
FAIR = EventProfile(name={"de": "Testmesse 2031", "en": "Test Fair 2031"})


def _row(i: int, question: str, language: str = "en", **changes) -> RecordRow:
    values = dict(
        answer_id=f"a{i}",
        conversation_id=f"c{i}",
        turn=0,
        asked_at=DAY + timedelta(minutes=15 * i),
        surface="kiosk",
        language=language,
        question=question,
        answer="The answer [1].",
        route="llm",
        refused=False,
        reason="",
        retrieved=True,
        documents=({"document": "orgs/grip.de.md", "title": "GRIP GmbH"},),
        organisations=("GRIP GmbH",),
        retrieve_ms=10.0,
        first_token_ms=400.0 + 100 * i,
        total_ms=2000.0 + 100 * i,
    )
    values.update(changes)
    return RecordRow(**values)


def _gap(i: int, question: str, language: str = "en", **changes) -> RecordRow:
    changes = {"route": "refusal", "refused": True, "documents": (), "organisations": (), **changes}
    return _row(i, question, language, **changes)


class TopicEmbedder(FakeEmbedder):
    """Stands in for the multilingual embedder: a German and an English question about one topic get one vector."""

    TOPICS: ClassVar[dict[str, tuple[str, ...]]] = {
        "parking": ("park", "parken", "parkplatz"),
        "wifi": ("wifi", "wlan"),
    }

    def embed_query(self, text: str) -> list[float]:
        words = set(re.findall(r"\w+", text.lower()))
        for topic, keys in self.TOPICS.items():
            if words & set(keys):
                return self._vector(topic)
        return super().embed_query(text)


# --- content gaps ----------------------------------------------------------------------------------------------


def test_gaps_are_refusals_after_a_search_and_answers_rated_as_not_answering() -> None:
    assert is_gap(_gap(0, "Where can I park?"))
    assert not is_gap(_gap(0, "What is his phone number?", retrieved=False))  # declined on purpose, no gap
    assert is_gap(_row(0, "Who founded it?", rating="down", feedback_reason="did_not_answer"))
    assert not is_gap(_row(0, "Who founded it?", rating="down", feedback_reason="wrong"))


def test_near_questions_group_together_largest_group_first_with_the_fake_embedder() -> None:
    rows = [
        _gap(0, "Is there free wifi in hall 3?"),
        _gap(1, "When does the evening reception start?"),
        _gap(2, "When does the evening reception start"),
        _gap(3, "when does the evening reception start ?"),
        _gap(4, "Is there free wifi in hall 3"),
        _gap(5, "Who sells industrial lasers?"),
        _row(6, "When does the evening reception start?"),  # answered: no gap
    ]
    groups = group_gaps(rows, FakeEmbedder())
    assert [g.size for g in groups] == [3, 2, 1]
    assert groups[0].examples()[0].startswith("When does the evening reception start")
    assert groups[1].questions == ["Is there free wifi in hall 3?", "Is there free wifi in hall 3"]


def test_a_german_and_an_english_question_about_one_thing_are_one_group() -> None:
    rows = [
        _gap(0, "Where can I park my car?"),
        _gap(1, "Wo kann ich mein Auto parken?", "de"),
        _gap(2, "Gibt es einen Parkplatz?", "de"),
        _gap(3, "Is there wifi?"),
    ]
    groups = group_gaps(rows, TopicEmbedder())
    assert [g.size for g in groups] == [3, 1]
    assert set(groups[0].languages) == {"de", "en"} and groups[0].language() == "de"
    assert len(group_gaps(rows, FakeEmbedder())) > 2  # the grouping is the embedder's: bag-of-words cannot


# --- the tables -----------------------------------------------------------------------------------------------------


def test_the_tables_count_per_language_and_surface_and_time_the_answers() -> None:
    rows = [
        _row(0, "q"),
        _row(1, "q", "de"),
        _row(2, "q", "de", surface="widget"),
        _row(3, "q", "de", route="extractive", rating="down", feedback_reason="not_my_language"),
        _gap(4, "q?"),
    ]
    s = summarise(rows, group_gaps(rows, FakeEmbedder()))
    assert s.organisations.rows[0] == ("GRIP GmbH", "de", "kiosk", "2")
    assert set(s.organisations.rows) == {
        ("GRIP GmbH", "de", "kiosk", "2"),
        ("GRIP GmbH", "de", "widget", "1"),
        ("GRIP GmbH", "en", "kiosk", "1"),
    }
    assert s.topics.rows[0][0] == "GRIP GmbH"
    assert s.routes.rows == (("llm", "3", "60%"), ("extractive", "1", "20%"), ("refusal", "1", "20%"))
    (down,) = s.rated_down.rows
    assert down[3:] == ("q", "The answer [1].", "GRIP GmbH", "not my language")
    assert s.speed.rows == (
        ("2024-09-09 09:00", "4", "0.50", "0.70", "2.10", "2.30"),
        ("2024-09-09 10:00", "1", "0.80", "0.80", "2.40", "2.40"),
    )
    assert dict(s.overview.rows)["refused"] == "1" and dict(s.overview.rows)["rated down"] == "1"


def test_percentiles_are_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert (percentile(values, 0.5), percentile(values, 0.95), percentile([3.0], 0.95)) == (50.0, 95.0, 3.0)
    assert percentile([], 0.5) is None


def test_csv_cells_cannot_become_spreadsheet_formulas() -> None:
    table = Table("t", "T", ("question",), (("=HYPERLINK(1)",), ("-1+2",), ('What, and "why"?',)))
    assert list(csv.reader(io.StringIO(table.csv()))) == [
        ["question"],
        ["'=HYPERLINK(1)"],
        ["'-1+2"],
        ['What, and "why"?'],
    ]


# --- the page and the stubs ----------------------------------------------------------------------------------------------


@pytest.fixture
def record(tmp_path: Path) -> RecordStore:
    store = RecordStore.open(f"sqlite:///{tmp_path / 'r.sqlite3'}")
    store.add_many(
        [
            _gap(0, f"Is there a {HOSTILE} shuttle bus?"),
            _gap(1, f"Is there a {HOSTILE} shuttle bus"),
            _gap(2, "Wo ist die Garderobe?", "de"),
            _row(3, "Who founded GRIP?", rating="down", feedback_reason="wrong", answer=f"Answer {HOSTILE}"),
            _row(4, "Too early", asked_at=datetime(2024, 9, 8, 23, 45)),
        ]
    )
    return store


def test_the_page_is_self_contained_and_escapes_every_stranger_text(record: RecordStore) -> None:
    report = build_report(record, FakeEmbedder(), FAIR, date(2024, 9, 9), date(2024, 9, 10))
    page = report.html(FAIR)
    assert len(report.rows) == 4 and [g.size for g in report.groups] == [2, 1]
    assert "<script" not in page and "<img src=x" not in page
    assert "&lt;script&gt;" in page and "Test Fair 2031" in page
    assert page.count('src="data:image/png;base64,') >= 3  # gaps, organisations, topics, speed, routes
    assert re.search(r'download="content-gaps\.csv" href="data:text/csv', page)
    assert re.search(r'download="gap-2024-09-09-1\.en\.md" href="data:text/markdown', page)
    assert not re.search(r'(src|href)="(?!data:)', page)  # nothing loaded from anywhere else


def test_a_stub_is_picked_up_by_ingest(record: RecordStore, tmp_path: Path, corpus: Path) -> None:
    report = build_report(record, FakeEmbedder(), FAIR, date(2024, 9, 9), date(2024, 9, 10))
    written = write_report(report, FAIR, tmp_path / "out" / "report.html")
    assert [p.name for p in written] == ["report.html", "gap-2024-09-09-1.en.md", "gap-2024-09-09-2.de.md"]
    german = written[2].read_text(encoding="utf-8")
    assert german.startswith('---\nid: "gap-2024-09-09-2"\ntitle: "Wo ist die Garderobe?"\nkind: "faq"\n')
    assert 'language: "de"\nname: "Testmesse 2031"\n---\n# Wo ist die Garderobe?\n\n## Wo ist die Garderobe?' in german
    english = written[1].read_text(encoding="utf-8")
    assert "<script" not in english and "## Is there a script alert(" in english
    for stub in written[1:]:
        (corpus / stub.name).write_text(stub.read_text(encoding="utf-8"), encoding="utf-8")
    settings = Settings(embedder="fake", index_dir=tmp_path / "index", record_questions=False)
    assistant = build_assistant(settings, embedder=FakeEmbedder(), store=MemoryStore())
    assert not assistant.ingest([corpus], progress=False).skipped
    stub_chunks = [c for c in assistant.store.chunks() if c.doc_id == "gap-2024-09-09-2"]
    assert stub_chunks and {c.language for c in stub_chunks} == {"de"}
    assert {c.organisation for c in stub_chunks} == {"Testmesse 2031"}
    assert any(c.section == "Wo ist die Garderobe?" for c in stub_chunks)


def test_assistant_report_writes_the_file_and_the_stubs(cli_env: Path, tmp_path: Path, capsys) -> None:
    store = RecordStore.open(database_url(Settings()))
    store.add_many([_gap(0, "Is there a shuttle bus?"), _row(1, "Who founded GRIP?")])
    store.close()
    assert cli.main(["report", "--since", "2024-09-09", "--until", "2024-09-09", "--out", "r/report.html"]) == 0
    out = capsys.readouterr().out
    assert "2 answers, 1 groups" in out and (tmp_path / "r" / "report.html").exists()
    assert (tmp_path / "r" / "report-stubs" / "gap-2024-09-09-1.en.md").exists()
    assert cli.main(["report", "--since", "2024-09-10", "--until", "2024-09-09"]) == 2
    with pytest.raises(SystemExit):
        cli.main(["report", "--since", "9.9.2024"])
    assert "is not a day as YYYY-MM-DD" in capsys.readouterr().err
