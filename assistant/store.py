"""The ``VectorStore`` seam and its Chroma adapter.

Atomic updates by generations: every change is written into a fresh collection (unchanged chunks are
copied over with their stored embeddings, so nothing is embedded twice), and only when it is complete
does a pointer record flip to it. A run killed at any point leaves the previous generation active,
complete and queryable; leftovers of an unfinished run are removed by the next one.

Every failure of the Chroma client leaves this module as a ``StoreUnavailable`` that names the store and the
cause: a server that is down gives a 503 with a sentence, not a traceback, and the next call simply tries again
(the client opens a new connection), so a restarted server is used without restarting the assistant.
"""

from __future__ import annotations

import contextlib
import errno
import os
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar
from urllib.parse import urlparse

from .errors import AssistantError, StoreUnavailable
from .settings import Settings
from .types import Chunk

Vector = list[float]
T = TypeVar("T")


@dataclass(frozen=True)
class Hit:
    id: str
    similarity: float  # cosine similarity, 1 = identical direction


@dataclass(frozen=True)
class IndexState:
    """What the active generation holds: chunk id → metadata, and the embedder it was built with."""

    embedder_key: str | None
    metadata: dict[str, dict[str, Any]]


class VectorStore(Protocol):
    def generation(self) -> str | None: ...

    def state(self) -> IndexState: ...

    def publish(
        self, embedder_key: str, keep: Iterable[str], chunks: Sequence[Chunk], vectors: Sequence[Vector]
    ) -> None: ...

    def chunks(self) -> list[Chunk]: ...

    def search(self, vector: Vector, k: int, language: str | None = None) -> list[Hit]: ...


class MemoryStore:
    """In-process store with the same generation semantics; for fast tests."""

    def __init__(self) -> None:
        self._rows: dict[str, tuple[Chunk, Vector]] = {}
        self._key: str | None = None
        self._generation = 0

    def generation(self) -> str | None:
        return str(self._generation) if self._rows else None

    def state(self) -> IndexState:
        return IndexState(self._key, {cid: chunk.metadata() for cid, (chunk, _) in self._rows.items()})

    def publish(
        self, embedder_key: str, keep: Iterable[str], chunks: Sequence[Chunk], vectors: Sequence[Vector]
    ) -> None:
        rows = {cid: self._rows[cid] for cid in keep}
        rows.update({c.id: (c, list(v)) for c, v in zip(chunks, vectors, strict=True)})
        self._rows, self._key = rows, embedder_key
        self._generation += 1

    def chunks(self) -> list[Chunk]:
        return [chunk for chunk, _ in self._rows.values()]

    def search(self, vector: Vector, k: int, language: str | None = None) -> list[Hit]:
        scored = [
            Hit(chunk.id, sum(a * b for a, b in zip(vector, vec, strict=True)))
            for chunk, vec in self._rows.values()
            if language is None or chunk.language == language
        ]
        return sorted(scored, key=lambda h: -h.similarity)[:k]


class ChromaStore:
    """Chroma, local persistent folder or a `chroma run` server. Always our own embeddings."""

    def __init__(self, client: Any, prefix: str, where: str = "", folder: Path | None = None) -> None:
        self._client = client
        self._prefix = prefix
        self._where = where or str(folder or "the Chroma store")
        self._folder = folder  # a local index folder; None for a server
        self._server = folder is None
        self._pointer_name = f"{prefix}-active"
        self._cached: tuple[str, Any, int] | None = None  # the active collection and its size
        self._seen: tuple[str | None, float] = (None, 0.0)  # the generation last read, and when

    # -- generations -----------------------------------------------------------------------------
    def _pointer(self) -> Any:
        return self._client.get_or_create_collection(self._pointer_name, embedding_function=None)

    def _active_name(self) -> str | None:
        meta = self._pointer().metadata or {}
        name = meta.get("active")
        return str(name) if name else None

    def _active(self, name: str | None = None) -> Any | None:
        name = name or self._active_name()
        if name is None:
            return None
        if self._cached and self._cached[0] == name:
            return self._cached[1]
        collection = self._client.get_collection(name, embedding_function=None)
        self._cached = (name, collection, collection.count())
        return collection

    def _chunks_once_more(self) -> list[Chunk]:
        """The chunks, read again once when the first read fails: an ingestion elsewhere may have flipped the
        pointer and dropped the generation just read (two replicas, one Chroma server)."""
        try:
            return self._chunks()
        except Exception:
            self._cached, self._seen = None, (None, 0.0)
            return self._chunks()

    def _reading(self, read: Callable[[], T]) -> T:
        """``read()``, with any failure of the client as a ``StoreUnavailable`` that names the store and what to do.

        Nothing is kept from a failed call but the cached collection, which is dropped: after a server's restart
        the next call asks it afresh."""
        try:
            return read()
        except AssistantError:
            raise
        except Exception as exc:
            self._cached, self._seen = None, (None, 0.0)
            if self._server:
                raise StoreUnavailable(
                    f"The Chroma server at {self._where} is not answering ({_short(exc)}) — is `chroma run` up? "
                    "Questions are answered again as soon as it is back."
                ) from exc
            raise StoreUnavailable(
                f"Cannot read the index at {self._where} ({_short(exc)}) — if it is damaged, move the folder away "
                "and run `assistant ingest` to rebuild it."
            ) from exc

    def generation(self) -> str | None:
        return self._reading(self._generation)

    def _generation(self) -> str | None:
        name = self._active_name()
        self._seen = (name, time.monotonic())
        return name

    def state(self) -> IndexState:
        return self._reading(self._state)

    def _state(self) -> IndexState:
        collection = self._active()
        if collection is None:
            return IndexState(None, {})
        got = collection.get(include=["metadatas"])
        metadata = {cid: dict(meta or {}) for cid, meta in zip(got["ids"], got["metadatas"], strict=True)}
        key = (collection.metadata or {}).get("embedder")
        return IndexState(str(key) if key else None, metadata)

    def publish(
        self, embedder_key: str, keep: Iterable[str], chunks: Sequence[Chunk], vectors: Sequence[Vector]
    ) -> None:
        """Write a new generation and flip to it. When writing fails (a full disk, a server gone), the new
        generation is dropped where that still works, the active one stays as it was, and the error names the
        cause."""
        name = f"{self._prefix}-g{time.time_ns()}"
        try:
            self._publish(name, embedder_key, list(keep), chunks, vectors)
        except AssistantError:
            raise
        except Exception as exc:
            self._cached = None
            self._drop(name)
            raise StoreUnavailable(
                f"Could not write the new index to {self._where}: {_cause(exc, self._folder)}. The previous index is "
                "still active and complete; fix that and run `assistant ingest` again."
            ) from exc
        with contextlib.suppress(Exception):  # published; old generations left now go with the next run
            self.collect_garbage()

    def _drop(self, name: str) -> None:
        """Best effort: a half-written generation would otherwise hold its space until the next run's clean-up."""
        with contextlib.suppress(Exception):  # what is left, the next run's clean-up collects
            self._client.delete_collection(name)

    def _publish(
        self, name: str, embedder_key: str, keep_ids: list[str], chunks: Sequence[Chunk], vectors: Sequence[Vector]
    ) -> None:
        old = self._active()
        new = self._client.create_collection(
            name,
            embedding_function=None,
            metadata={"embedder": embedder_key, "hnsw:space": "cosine"},
        )
        batch = max(1, min(1000, self._client.get_max_batch_size()))
        if old is not None:
            for start in range(0, len(keep_ids), batch):
                got = old.get(ids=keep_ids[start : start + batch], include=["embeddings", "documents", "metadatas"])
                new.add(
                    ids=got["ids"],
                    embeddings=got["embeddings"],
                    documents=got["documents"],
                    metadatas=got["metadatas"],
                )
        for start in range(0, len(chunks), batch):
            part = chunks[start : start + batch]
            new.add(
                ids=[c.id for c in part],
                embeddings=[list(v) for v in vectors[start : start + batch]],
                documents=[c.text for c in part],
                metadatas=[c.metadata() for c in part],
            )
        if new.count() != len(keep_ids) + len(chunks):
            raise StoreUnavailable(
                f"Chroma stored {new.count()} of {len(keep_ids) + len(chunks)} chunks; not published."
            )
        # The flip: one metadata update of the pointer record.
        self._pointer().modify(metadata={"active": name})
        self._cached = None

    def collect_garbage(self) -> None:
        """Drop every generation but the active one (old ones and leftovers of killed runs)."""
        active = self._active_name()
        for collection in self._client.list_collections():
            cname = collection if isinstance(collection, str) else collection.name
            if cname.startswith(f"{self._prefix}-g") and cname != active:
                self._client.delete_collection(cname)

    # -- reading ---------------------------------------------------------------------------------
    def chunks(self) -> list[Chunk]:
        return self._reading(self._chunks_once_more)

    def _chunks(self) -> list[Chunk]:
        collection = self._active()
        if collection is None:
            return []
        got = collection.get(include=["documents", "metadatas"])
        return [
            Chunk.from_metadata(cid, doc or "", meta or {})
            for cid, doc, meta in zip(got["ids"], got["documents"], got["metadatas"], strict=True)
        ]

    def search(self, vector: Vector, k: int, language: str | None = None) -> list[Hit]:
        try:
            return self._search(vector, k, language)
        except Exception:  # the generation may have been replaced under us by another process: retry once
            self._cached, self._seen = None, (None, 0.0)
            return self._reading(lambda: self._search(vector, k, language))

    def _search(self, vector: Vector, k: int, language: str | None) -> list[Hit]:
        # A search right after generation() (as the retriever does it) skips a second pointer read.
        seen, when = self._seen
        collection = self._active(seen if seen and time.monotonic() - when < 1.0 else None)
        if collection is None or self._cached is None:
            return []
        n = self._cached[2]
        if n == 0:
            return []
        # Ids and distances only: the caller holds the chunks (the lexical index has them all), and
        # fetching documents and metadata from SQLite cost more than the vector search itself.
        result = collection.query(
            query_embeddings=[vector],
            n_results=min(k, n),
            where={"language": language} if language else None,
            include=["distances"],
        )
        return [Hit(cid, 1.0 - float(dist)) for cid, dist in zip(result["ids"][0], result["distances"][0], strict=True)]


def make_store(settings: Settings) -> VectorStore:
    """The one factory for this seam: 'memory:' for tests, a URL for a server, else a local folder."""
    if settings.chroma_url == "memory:":
        return MemoryStore()
    try:
        import chromadb
        from chromadb.config import Settings as ChromaSettings
    except ImportError as exc:  # pragma: no cover
        raise StoreUnavailable(f"chromadb is missing ({exc}) — run `make setup`.") from exc
    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    try:
        if settings.chroma_url:
            url = urlparse(settings.chroma_url)
            client = chromadb.HttpClient(
                host=url.hostname or "127.0.0.1",
                port=url.port or (443 if url.scheme == "https" else 8000),
                ssl=url.scheme == "https",
                settings=chroma_settings,
            )
            client.heartbeat()
        else:
            settings.index_dir.mkdir(parents=True, exist_ok=True)
            client = chromadb.PersistentClient(path=str(settings.index_dir.resolve()), settings=chroma_settings)
    except Exception as exc:  # chromadb raises many kinds here; all mean the same to a user
        if settings.chroma_url:
            raise StoreUnavailable(
                f"Cannot open the Chroma store at {settings.chroma_url}: {_short(exc)} — is `chroma run` up there?"
            ) from exc
        raise StoreUnavailable(
            f"Cannot open the Chroma store at {settings.index_dir}: {_short(exc)} — the index is damaged: move the "
            "folder away and run `assistant ingest` to rebuild it (`assistant serve` then builds it at start)."
        ) from exc
    if settings.chroma_url:
        return ChromaStore(client, settings.collection, where=settings.chroma_url)
    return ChromaStore(client, settings.collection, folder=settings.index_dir)


def _short(exc: BaseException, limit: int = 200) -> str:
    """The exception's type and first words, on one line: enough to name the cause, never a traceback."""
    text = " ".join(str(exc).split())
    text = text if len(text) <= limit else text[: limit - 1] + "…"
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _cause(exc: BaseException, folder: Path | None) -> str:
    """What went wrong while writing, in words. A full disk is said as such: SQLite says "database or disk is full"
    and the OS ENOSPC, but Chroma's own layer may only say that applying its log failed, so for a local folder a
    file system with (almost) no space left counts as the cause too."""
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and len(chain) < 8:
        chain.append(current)
        current = current.__cause__ or current.__context__
    said = any(
        getattr(e, "errno", None) == errno.ENOSPC or "disk is full" in str(e) or "No space left" in str(e)
        for e in chain
    )
    free = _free_bytes(folder)
    if said or (free is not None and free < FULL_BYTES):
        where = f", {free // 1024} KB free" if free is not None else ""
        return f"no space left on the device{where} ({_short(exc)})"
    return _short(exc)


FULL_BYTES = 1 << 20  # a write that failed with less than this free on the index's file system failed for space


def _free_bytes(folder: Path | None) -> int | None:
    if folder is None:
        return None
    try:
        stats = os.statvfs(folder)
    except OSError:
        return None
    return stats.f_bavail * stats.f_frsize
