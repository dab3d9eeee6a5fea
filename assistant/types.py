"""Our own frozen dataclasses: what crosses the boundaries between the seams."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Document:
    """One source file, loaded and cleaned, before chunking."""

    doc_id: str  # logical id shared by the language variants, e.g. "grip"
    path: str  # display path, e.g. "knowledge/organisations/grip.en.md"
    source_path: str  # absolute path, used to notice deleted files
    file_hash: str
    title: str
    text: str  # Markdown-ish text: "#" headings mark sections
    language: str | None  # declared language (front matter), if any
    meta: dict[str, Any] = field(default_factory=dict)  # name, kind, city, website, url, sources …


@dataclass(frozen=True)
class Chunk:
    """A passage as stored: its text plus everything needed to cite it."""

    id: str
    text: str
    doc_id: str
    document: str
    title: str
    section: str
    organisation: str
    language: str
    url: str = ""
    kind: str = ""
    source_path: str = ""
    file_hash: str = ""
    index: int = 0
    # One unit vector per sentence of ``text`` (chunking.split_sentences), float16, base64; made at ingestion
    # so that picking a passage's sentences for the prompt (focus.py) embeds nothing while a visitor waits.
    sentence_vectors: str = field(default="", repr=False)

    def embedding_text(self) -> str:
        """What the embedder sees: the section heading gives the passage its context."""
        head = f"{self.organisation} – {self.section}" if self.section else self.organisation
        return f"{head}\n{self.text}" if head else self.text

    def lexical_text(self) -> str:
        return " ".join(p for p in (self.title, self.organisation, self.section, self.text) if p)

    def metadata(self) -> dict[str, str | int]:
        meta: dict[str, str | int] = {
            "doc_id": self.doc_id,
            "document": self.document,
            "title": self.title,
            "section": self.section,
            "organisation": self.organisation,
            "language": self.language,
            "url": self.url,
            "kind": self.kind,
            "source_path": self.source_path,
            "file_hash": self.file_hash,
            "index": self.index,
        }
        if self.sentence_vectors:
            meta["sentence_vectors"] = self.sentence_vectors
        return meta

    @classmethod
    def from_metadata(cls, id: str, text: str, meta: dict[str, Any]) -> Chunk:
        return cls(
            id=id,
            text=text,
            doc_id=str(meta.get("doc_id", "")),
            document=str(meta.get("document", "")),
            title=str(meta.get("title", "")),
            section=str(meta.get("section", "")),
            organisation=str(meta.get("organisation", "")),
            language=str(meta.get("language", "")),
            url=str(meta.get("url", "")),
            kind=str(meta.get("kind", "")),
            source_path=str(meta.get("source_path", "")),
            file_hash=str(meta.get("file_hash", "")),
            index=int(meta.get("index", 0)),
            sentence_vectors=str(meta.get("sentence_vectors", "")),
        )


@dataclass(frozen=True)
class Passage:
    """A retrieved chunk with its rank and scores."""

    chunk: Chunk
    rank: int
    score: float  # fused score
    dense_score: float | None = None  # cosine similarity, when the dense ranking found it
    lexical_score: float | None = None  # BM25, when the lexical ranking found it

    def to_json(self) -> dict[str, Any]:
        c = self.chunk
        return {
            "rank": self.rank,
            "score": round(self.score, 6),
            "text": c.text,
            "title": c.title,
            "document": c.document,
            "organisation": c.organisation,
            "language": c.language,
            "section": c.section,
            "doc_id": c.doc_id,
            "url": c.url,
            "dense_score": None if self.dense_score is None else round(self.dense_score, 4),
            "lexical_score": None if self.lexical_score is None else round(self.lexical_score, 4),
        }


@dataclass(frozen=True)
class Turn:
    role: str  # "user" | "assistant"
    content: str


@dataclass(frozen=True)
class Source:
    n: int
    title: str
    document: str
    organisation: str
    url: str
    snippet: str
    language: str
    text: str = field(default="", repr=False)  # the whole passage, for checks; the API shows the snippet

    def to_json(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "title": self.title,
            "document": self.document,
            "organisation": self.organisation,
            "url": self.url,
            "snippet": self.snippet,
            "language": self.language,
        }


ROUTES = ("llm", "retried", "extractive", "refusal")


@dataclass(frozen=True)
class Answer:
    question: str
    standalone_question: str
    answer: str
    language: str
    refused: bool
    route: str  # one of ROUTES
    reason: str  # why this route: check problems, backend errors …
    sources: tuple[Source, ...]
    timings: dict[str, float | None]
    prompt_version: str
    model: str
    rules: tuple[str, ...] = ()  # the answer path's rules that changed this answer, in order (docs/pipeline.md)

    def to_json(self) -> dict[str, Any]:
        return {
            "answer": self.answer,
            "language": self.language,
            "refused": self.refused,
            "route": self.route,
            "reason": self.reason,
            "sources": [s.to_json() for s in self.sources],
            "timings": self.timings,
            "question": self.question,
            "standalone_question": self.standalone_question,
            "prompt_version": self.prompt_version,
            "model": self.model,
            "rules": list(self.rules),
        }


@dataclass(frozen=True)
class TokenEvent:
    text: str


@dataclass(frozen=True)
class ReplaceEvent:
    """What was streamed so far is withdrawn and replaced by ``text`` (a failed check, a dead backend)."""

    text: str
    reason: str


@dataclass(frozen=True)
class DoneEvent:
    answer: Answer


AnswerEvent = TokenEvent | ReplaceEvent | DoneEvent
