"""Files an attacker hands in as documents (built at test time by ``tests/hostile.py``): skipped and named with a
reason, before they cost memory or time."""

from __future__ import annotations

import time
import tracemalloc
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from assistant.loaders import SkipFile, load_file
from tests import hostile

MAX_BYTES = 20_000_000  # the max_file_mb default


@contextmanager
def peak_memory() -> Iterator[list[float]]:
    """The peak of Python's allocations inside the block, in MB (zlib's output and lxml's input are among them)."""
    peak: list[float] = []
    tracemalloc.start()
    try:
        yield peak
    finally:
        peak.append(tracemalloc.get_traced_memory()[1] / 1e6)
        tracemalloc.stop()


def _skipped(path: Path) -> str:
    with pytest.raises(SkipFile) as caught:
        load_file(path, path.name, MAX_BYTES)
    return str(caught.value)


# --- archives ---------------------------------------------------------------------------------------------------


def test_a_zip_bomb_docx_is_skipped_by_its_ratio_before_anything_is_inflated(tmp_path: Path) -> None:
    bomb = hostile.docx_bomb(tmp_path / "bomb.docx", inflated_mb=30)
    assert bomb.stat().st_size < 200_000  # far below any limit on the file itself
    with peak_memory() as peak:
        reason = _skipped(bomb)
    assert "zip bomb" in reason and "word/document.xml" in reason and "limit 100 times" in reason
    assert peak[0] < 5, f"{peak[0]:.1f} MB"  # python-docx inflated it before: 61 MB for these 30 MB


def test_a_docx_whose_directory_declares_a_huge_member_is_skipped_by_the_declared_size(tmp_path: Path) -> None:
    reason = _skipped(hostile.docx_declaring(tmp_path / "declares.docx", declared_bytes=4_000_000_000))
    assert "zip bomb" in reason and "4,000.0 MB" in reason and "limit 50.0 MB" in reason


def test_a_docx_whose_directory_understates_a_size_is_never_inflated_in_one_step(tmp_path: Path) -> None:
    with peak_memory() as peak:
        reason = _skipped(hostile.docx_understating(tmp_path / "understates.docx", inflated_mb=60))
    assert reason == "corrupt DOCX (BadZipFile)"  # its check sum fails after the declared 10 KB
    assert peak[0] < 5, f"{peak[0]:.1f} MB"  # read in one step, the member took 141 MB on the way


def test_an_ordinary_docx_passes_the_archive_checks(tmp_path: Path) -> None:
    path = tmp_path / "plain.docx"
    path.write_bytes(hostile._plain_docx())
    assert hostile.INNOCENT.strip() in load_file(path, path.name, MAX_BYTES).text


# --- front matter -----------------------------------------------------------------------------------------------


def test_front_matter_with_yaml_aliases_is_refused_before_anything_is_expanded(tmp_path: Path) -> None:
    started = time.perf_counter()
    with peak_memory() as peak:
        reason = _skipped(hostile.alias_bomb(tmp_path / "bomb.en.md", levels=5))
    assert reason == "front matter uses YAML anchors or aliases (not allowed)"
    assert time.perf_counter() - started < 1 and peak[0] < 2  # before: a 3.8 MB title, 6 s with tracing
    anchored = tmp_path / "anchored.en.md"  # an anchor alone is refused too: nothing needs one
    anchored.write_text(f"---\ntitle: &t Robots\n---\n{hostile.INNOCENT}", encoding="utf-8")
    assert _skipped(anchored) == reason


def test_every_metadata_field_is_cut_to_its_limit(tmp_path: Path) -> None:
    from assistant.chunking import chunk_document
    from assistant.loaders import FIELD_LIMITS

    doc = load_file(hostile.long_fields(tmp_path / "long.en.md"), "long.en.md", MAX_BYTES)
    assert len(doc.title) == FIELD_LIMITS["title"] and doc.title.endswith("…")
    assert len(doc.meta["name"]) == FIELD_LIMITS["name"] and len(doc.meta["kind"]) == FIELD_LIMITS["kind"]
    assert "website" not in doc.meta  # a cut URL would lead elsewhere: dropped
    chunk = chunk_document(doc)[0]
    assert (len(chunk.title), len(chunk.organisation), chunk.url) == (200, 200, "")


def test_a_title_from_a_heading_or_an_html_page_is_cut_and_cleaned_too(tmp_path: Path) -> None:
    heading = tmp_path / "heading.en.md"
    heading.write_text(f"# {'Robots ' * 100}\n\n{hostile.INNOCENT}", encoding="utf-8")
    assert len(load_file(heading, heading.name, MAX_BYTES).title) == 200
    html = tmp_path / "page.html"
    html.write_text(f"<title>Robots\u200b\u202e here</title><p>{hostile.INNOCENT}</p>", encoding="utf-8")
    assert load_file(html, html.name, MAX_BYTES).title == "Robots here"  # no zero-width, no bidi override


def test_huge_front_matter_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "huge.en.md"
    path.write_text("---\n" + "".join(f"k{i}: v\n" for i in range(5_000)) + f"---\n{hostile.INNOCENT}")
    assert _skipped(path) == "front matter longer than 20000 characters"


# --- control bytes ------------------------------------------------------------------------------------------------


def test_a_text_file_with_control_bytes_beyond_its_first_8_kb_is_binary(tmp_path: Path) -> None:
    reason = _skipped(hostile.control_bytes(tmp_path / "terminal.txt"))
    assert reason.startswith("binary content in a text file (control byte 0x1b at ")
    c1 = tmp_path / "c1.md"  # the 8-bit escape (CSI) as UTF-8
    c1.write_text(hostile.INNOCENT * 3 + "\x9b2J", encoding="utf-8")
    assert _skipped(c1) == "binary content in a text file (control characters)"


def test_windows_text_keeps_its_quotes_and_a_form_feed_is_text(tmp_path: Path) -> None:
    path = tmp_path / "legacy.txt"
    path.write_bytes(b"\x93Gr\xfc\xdfe\x94 from the exhibitor in hall four.\x0c\r\nNext page of the brochure.\r\n")
    doc = load_file(path, path.name, MAX_BYTES)
    assert doc.text == "“Grüße” from the exhibitor in hall four.\n\nNext page of the brochure."


# --- links and names ------------------------------------------------------------------------------------------


def _ingest(folder: Path):
    from assistant.embedders import FakeEmbedder
    from assistant.ingest import Ingestor
    from assistant.settings import Settings
    from assistant.store import MemoryStore

    store = MemoryStore()
    return Ingestor(store, FakeEmbedder(), Settings(), progress=False).run([folder]), store


def test_ingestion_never_follows_a_link_out_of_its_folder_nor_prints_the_target(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    outside = tmp_path / "private"
    outside.mkdir()
    (outside / "secret.txt").write_text("The private salary list of the organiser says 123456 for everyone.\n")
    (outside / "more.md").write_text("# More\n\nAnother private document nobody handed in, about 654321.\n")
    knowledge = tmp_path / "knowledge"
    knowledge.mkdir()
    (knowledge / "robots.en.md").write_text(f"# Robots\n\n{hostile.INNOCENT}")
    (knowledge / "notes.txt").symlink_to(outside / "secret.txt")
    (knowledge / "environ.txt").symlink_to("/proc/self/environ")
    (knowledge / "linked").symlink_to(outside, target_is_directory=True)
    (knowledge / "again.en.md").symlink_to(knowledge / "robots.en.md")  # inside, to inside: read once
    monkeypatch.chdir(tmp_path)
    report, store = _ingest(knowledge)
    texts = " ".join(c.text for c in store.chunks())
    assert "123456" not in texts and "654321" not in texts and "grippers" in texts
    assert report.added == ["knowledge/robots.en.md"]
    assert dict(report.skipped) == {
        "knowledge/environ.txt": "a link to a file outside the folder (not followed)",
        "knowledge/linked": "a link to a folder (not followed)",
        "knowledge/notes.txt": "a link to a file outside the folder (not followed)",
    }
    assert "private" not in repr(report) and "/proc" not in repr(report)


def test_file_names_with_line_breaks_or_terminal_escapes_are_skipped_and_named_escaped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    knowledge = tmp_path / "knowledge"
    knowledge.mkdir()
    for name in ("forged\nskipped x.md: fine.md", "\x1b[2Jred.txt", "rtl\u202etxt.md"):
        (knowledge / name).write_text(f"# Robots\n\n{hostile.INNOCENT}")
    monkeypatch.chdir(tmp_path)
    report, store = _ingest(knowledge)
    assert store.chunks() == [] and report.added == []
    reason = "its name holds control or invisible characters"
    assert sorted(report.skipped) == [
        ("knowledge/\\x1b[2Jred.txt", reason),
        ("knowledge/forged\\nskipped x.md: fine.md", reason),
        ("knowledge/rtl\\u202etxt.md", reason),
    ]


def test_the_hostile_corpus_is_skipped_file_by_file_with_reasons(tmp_path: Path) -> None:
    files = hostile.build_corpus(tmp_path / "hostile")
    started = time.perf_counter()
    report, _ = _ingest(tmp_path / "hostile")
    assert time.perf_counter() - started < 10
    skipped = {Path(path).name: reason for path, reason in report.skipped}
    assert set(skipped) == {f.name for f in files} - {"long-fields.en.md"}, report.skipped
    assert [Path(p).name for p in report.added] == ["long-fields.en.md"]
