"""The chunking benchmark's variants on a small synthetic document, and its ingestion patch on a fake index: no
models, so the benchmark (evals/bench_chunking.py) cannot rot unnoticed."""

from __future__ import annotations

from pathlib import Path

from assistant.app import build_assistant
from assistant.chunking import chunk_document
from evals.bench_chunking import VARIANTS, chunked_with, langchain_chunks, long_sentences, pysbd_chunks, pysbd_split

from .test_chunking import _doc  # the same synthetic document's metadata as the chunker's own tests

SENTENCES = [f"Der Greifer Nr. {i} der GRIP GmbH wurde von Dr. Canti am 13. September vorgestellt." for i in range(12)]
TEXT = (
    "# GRIP GmbH\n\n## Überblick\n"
    + " ".join(SENTENCES)
    + "\n\n## Kontakt\n### Messestand\nHalle 4, Stand 4-201. Ansprechpartner ist Hasan Canti.\n"
)


def test_every_variant_keeps_our_metadata_and_the_deepest_heading_as_section() -> None:
    for name, chunker in VARIANTS.items():
        chunks = chunker(_doc(TEXT), 300, 1)
        assert {c.section for c in chunks} == {"Überblick", "Messestand"}, name
        assert all(
            (c.doc_id, c.title, c.organisation, c.language) == ("grip", "GRIP GmbH", "GRIP GmbH", "de") for c in chunks
        )
        assert all("# " not in c.text for c in chunks), name  # headings are context, not passage text
        assert [c.index for c in chunks] == list(range(len(chunks)))
        assert len({c.id for c in chunks}) == len(chunks)


def test_langchain_variant_cuts_at_its_size_with_overlap() -> None:
    chunks = [c for c in langchain_chunks(_doc(TEXT), 300, 1) if c.section == "Überblick"]
    assert len(chunks) > 3
    assert all(len(c.text) <= 300 for c in chunks)
    section = len(" ".join(SENTENCES))
    without = [c for c in langchain_chunks(_doc(TEXT), 300, 0) if c.section == "Überblick"]
    assert sum(len(c.text) for c in without) <= section  # cut, nothing repeated
    assert sum(len(c.text) for c in chunks) > section + 50 * (len(chunks) - 2)  # each cut repeats some text


def test_pysbd_variant_packs_whole_sentences_by_the_document_language() -> None:
    assert pysbd_split("de")("Er kam am 13. September. Dann ging er.") == ["Er kam am 13. September.", "Dann ging er."]
    chunks = [c for c in pysbd_chunks(_doc(TEXT), 300, 1) if c.section == "Überblick"]
    ours = [c for c in chunk_document(_doc(TEXT), 300, 1) if c.section == "Überblick"]
    assert [c.text for c in chunks] == [c.text for c in ours]  # this text splits the same either way
    assert all(c.text.endswith("vorgestellt.") for c in chunks)


def test_ingestion_with_a_variant_indexes_its_passages(tmp_path: Path, settings) -> None:
    knowledge = tmp_path / "knowledge"
    knowledge.mkdir()
    (knowledge / "grip.de.md").write_text(TEXT, encoding="utf-8")
    assistant = build_assistant(settings.with_overrides(knowledge_dir=knowledge), chat=None)
    with chunked_with(langchain_chunks) as made:
        report = assistant.ingest(progress=False)
    assert report.chunks_total == len(made) == len(langchain_chunks(_doc(TEXT), settings.chunk_chars, 1))
    assert all(not c.sentence_vectors for c in made)
    top = assistant.search("Wo ist der Messestand der GRIP GmbH?", k=3)
    assert top and {p.chunk.text for p in top} <= {c.text for c in made}


def test_sentence_statistics_count_the_blocks_sentences(tmp_path: Path) -> None:
    (tmp_path / "grip.de.md").write_text(TEXT, encoding="utf-8")
    stats = long_sentences(tmp_path, over=80)
    assert stats["ours"]["sentences"] == len(SENTENCES) + 2
    assert stats["ours"]["over_80"] == len(SENTENCES)  # each numbered sentence is 81 or 82 characters
    assert stats["ours"]["longest"] == max(len(s) for s in SENTENCES)
