"""One suite that every VectorStore passes: in-memory, local Chroma folder, and a real `chroma run` server."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.settings import Settings
from assistant.store import ChromaStore, MemoryStore, make_store
from assistant.types import Chunk


def _chunk(i: int, lang: str = "en", doc: str = "d") -> Chunk:
    return Chunk(
        id=f"c{i}",
        text=f"passage {i}",
        doc_id=doc,
        document=f"{doc}.md",
        title="T",
        section="S",
        organisation="O",
        language=lang,
        source_path=f"/x/{doc}.md",
        file_hash="h",
        index=i,
    )


def _vec(i: int, dim: int = 8) -> list[float]:
    v = [0.0] * dim
    v[i % dim] = 1.0
    return v


@pytest.fixture(params=["memory", "local", pytest.param("server", marks=pytest.mark.slow)])
def store(request: pytest.FixtureRequest, tmp_path: Path):
    if request.param == "memory":
        return MemoryStore()
    if request.param == "local":
        return make_store(Settings(embedder="fake", index_dir=tmp_path / "idx"))
    url = request.getfixturevalue("chroma_server")
    return make_store(Settings(embedder="fake", chroma_url=url, collection=f"t{abs(hash(tmp_path)) % 10**8}"))


def test_empty_store_has_no_generation(store) -> None:
    assert store.generation() is None
    assert store.state().metadata == {} and store.chunks() == [] and store.search(_vec(0), 3) == []


def test_publish_then_search_and_filter_by_language(store) -> None:
    chunks = [_chunk(0, "en"), _chunk(1, "de"), _chunk(2, "en")]
    store.publish("fake", [], chunks, [_vec(0), _vec(1), _vec(2)])
    hits = store.search(_vec(1), 2)
    assert hits[0].id == "c1" and hits[0].similarity == pytest.approx(1.0, abs=1e-5)
    english = store.search(_vec(1), 3, language="en")
    assert {h.id for h in english} == {"c0", "c2"}
    state = store.state()
    assert state.embedder_key == "fake" and set(state.metadata) == {"c0", "c1", "c2"}


def test_new_generation_keeps_listed_chunks_with_their_embeddings(store) -> None:
    store.publish("fake", [], [_chunk(0), _chunk(1)], [_vec(0), _vec(1)])
    first = store.generation()
    store.publish("fake", ["c1"], [_chunk(5)], [_vec(5)])
    assert store.generation() != first
    assert {c.id for c in store.chunks()} == {"c1", "c5"}
    assert store.search(_vec(1), 1)[0].id == "c1"  # the copied embedding still finds it


def test_local_chroma_reopens_with_identical_results(tmp_path: Path) -> None:
    settings = Settings(embedder="fake", index_dir=tmp_path / "idx")
    store = make_store(settings)
    store.publish("fake", [], [_chunk(i) for i in range(6)], [_vec(i) for i in range(6)])
    before = [(h.id, round(h.similarity, 5)) for h in store.search(_vec(3), 4)]
    reopened = make_store(settings)
    assert isinstance(reopened, ChromaStore)
    assert [(h.id, round(h.similarity, 5)) for h in reopened.search(_vec(3), 4)] == before


def test_leftover_generations_are_collected(tmp_path: Path) -> None:
    store = make_store(Settings(embedder="fake", index_dir=tmp_path / "idx"))
    assert isinstance(store, ChromaStore)
    store._client.create_collection("knowledge-g1", embedding_function=None)  # as left by a killed run
    store.publish("fake", [], [_chunk(0)], [_vec(0)])
    names = sorted(c if isinstance(c, str) else c.name for c in store._client.list_collections())
    assert names == sorted(["knowledge-active", store.generation()])


def test_a_reader_whose_generation_was_collected_by_another_writer_reads_the_new_one(tmp_path: Path) -> None:
    """Two processes, one index (docs/deploy.md): a replica reads the pointer, then an ingestion flips it and
    drops the generation just read, then the replica reads that generation's chunks. It gets the new ones."""
    settings = Settings(embedder="fake", index_dir=tmp_path / "idx")
    writer, reader = make_store(settings), make_store(settings)
    assert isinstance(reader, ChromaStore)
    writer.publish("fake", [], [_chunk(0)], [_vec(0)])
    assert [c.id for c in reader.chunks()] == ["c0"]  # the reader holds generation 1
    stale = reader.generation()
    writer.publish("fake", [], [_chunk(1)], [_vec(1)])  # generation 2; generation 1 is dropped
    reads = iter([stale])
    real_active_name = reader._active_name
    reader._active_name = lambda: next(reads, None) or real_active_name()  # type: ignore[method-assign]
    assert [c.id for c in reader.chunks()] == ["c1"]
    assert [h.id for h in reader.search(_vec(1), 1)] == ["c1"]
