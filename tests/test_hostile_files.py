"""Files an attacker hands in as documents (built at test time by ``tests/hostile.py``): skipped and named with a
reason, before they cost memory or time."""

from __future__ import annotations

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
