"""The knowledge base and the answer pipeline for LangChain: a retriever, a runnable, and ingestion of LangChain
``Document``s (docs/langchain.md).

- ``KnowledgeBaseRetriever``: a ``BaseRetriever`` over the index, ranked by our hybrid retrieval; each
  ``Document``'s metadata are the passage's (title, document, organisation, url, language, section, chunk id, rank,
  scores). ``k`` and ``language`` (search only documents in that language, as ``assistant search --doc-language``)
  are set on the retriever or per call: ``retriever.invoke(question, k=2, language="de")``.
- ``AnswerRunnable``: the whole pipeline (retrieval, generation, checks, citations) as a ``Runnable``. Input: a
  question, or ``{"question", "history", "language"}``; output: our ``Answer``. ``stream`` yields
  ``AnswerChunk``s while the answer is written, then the ``Answer`` itself as the last chunk (see ``AnswerChunk``).
- ``ingest_documents``: any LangChain loader's documents through our chunking, hashing and atomic generations.

Everything is built from an ``Assistant`` (``assistant.app.build_assistant``); LangChain types stay in this module.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections import defaultdict
from collections.abc import AsyncIterator, Generator, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any, NotRequired, TypedDict
from urllib.parse import urlsplit

from langchain_core.callbacks import AsyncCallbackManagerForRetrieverRun, CallbackManagerForRetrieverRun
from langchain_core.documents import Document as LCDocument
from langchain_core.messages import BaseMessage
from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables import RunnableConfig, RunnableSerializable
from langchain_core.runnables.config import run_in_executor
from pydantic import ConfigDict, field_validator

from ..app import Assistant
from ..ingest import IngestReport, Source
from ..loaders import make_document
from ..types import Answer, AnswerEvent, Document, DoneEvent, Passage, ReplaceEvent, Turn

DEFAULT_NAMESPACE = "langchain"


def _an_assistant(value: object) -> Assistant:
    """The ``assistant`` field's check: one built by ``build_assistant``, the composition root."""
    if not isinstance(value, Assistant):
        raise ValueError(f"assistant must be built by assistant.app.build_assistant, not a {type(value).__name__}")
    return value


# --- retrieval ---------------------------------------------------------------------------------------------------


def to_langchain_document(passage: Passage) -> LCDocument:
    """A retrieved passage as LangChain sees it: its text, and its metadata as our search's JSON gives them."""
    chunk = passage.chunk
    metadata = {key: value for key, value in passage.to_json().items() if key != "text"}
    metadata.update(chunk_id=chunk.id, kind=chunk.kind)
    return LCDocument(id=chunk.id, page_content=chunk.text, metadata=metadata)


class KnowledgeBaseRetriever(BaseRetriever):
    """The indexed knowledge base as a LangChain retriever, ranked by our hybrid retrieval (dense + BM25).

    ``k`` defaults to the ``top_k`` setting; ``language`` ("de" or "en") restricts the documents searched, not the
    question. Both may also be given per call as keyword arguments of ``invoke``/``ainvoke``.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    assistant: Any  # an ``Assistant``: typed Any so that pydantic does not build a schema of our dataclass

    _is_assistant = field_validator("assistant")(_an_assistant)
    k: int | None = None
    language: str | None = None

    def _get_relevant_documents(
        self,
        query: str,
        *,
        run_manager: CallbackManagerForRetrieverRun,
        k: int | None = None,
        language: str | None = None,
    ) -> list[LCDocument]:
        passages = self.assistant.search(query, k=k or self.k, language=language or self.language)
        return [to_langchain_document(p) for p in passages]

    async def _aget_relevant_documents(
        self,
        query: str,
        *,
        run_manager: AsyncCallbackManagerForRetrieverRun,
        k: int | None = None,
        language: str | None = None,
    ) -> list[LCDocument]:
        """The search runs in a worker thread: it embeds the question on the CPU and must not block the loop."""
        return await run_in_executor(
            None, self._get_relevant_documents, query, run_manager=run_manager.get_sync(), k=k, language=language
        )


# --- answering ---------------------------------------------------------------------------------------------------


class AnswerInput(TypedDict):
    """What ``AnswerRunnable`` takes besides a plain question string."""

    question: str
    history: NotRequired[Sequence[Mapping[str, str] | BaseMessage | tuple[str, str]]]  # earlier turns, oldest first
    language: NotRequired[str | None]  # the answer's language ("de" or "en"); by default the question's


@dataclass(frozen=True)
class AnswerChunk:
    """A piece of an answer being written, as ``AnswerRunnable.stream`` yields it.

    ``replace`` false: ``text`` follows what was streamed so far (a token piece). ``replace`` true: what was streamed
    so far is withdrawn and ``text`` stands instead (the draft failed a check, or the model failed, and the checked
    answer replaces it); ``reason`` says why. The stream ends with the ``Answer`` itself, checked and cited.

    Chunks add up the way LangChain adds streamed chunks: ``chunk + chunk`` is the text on screen so far, and
    ``chunk + answer`` is the answer, so the sum of a whole stream is what ``invoke`` returns, and a step after
    this one in a streamed LCEL chain receives the ``Answer``.
    """

    text: str
    replace: bool = False
    reason: str = ""

    def __add__(self, other: AnswerChunk | Answer) -> AnswerChunk | Answer:
        if isinstance(other, Answer) or other.replace:
            return other
        return AnswerChunk(self.text + other.text, self.replace, self.reason)


_ROLES = {"user": "user", "human": "user", "assistant": "assistant", "ai": "assistant"}


def _turn(item: Mapping[str, str] | BaseMessage | tuple[str, str]) -> Turn:
    """One earlier turn from a ``{role, content}`` dict, a LangChain message or a ``(role, content)`` pair."""
    role: str
    content: str
    if isinstance(item, BaseMessage):
        role, content = item.type, str(item.text)
    elif isinstance(item, tuple):
        role, content = item
    else:
        role, content = item["role"], item["content"]
    if role not in _ROLES:
        raise ValueError(f"a history turn's role must be one of {sorted(_ROLES)}, not {role!r}")
    return Turn(_ROLES[role], str(content))


def _request(value: AnswerInput | str) -> tuple[str, list[Turn], str | None]:
    """Question, history and answer language from the runnable's input."""
    if isinstance(value, str):
        return value, [], None
    if not isinstance(value, Mapping) or "question" not in value:
        raise ValueError('AnswerRunnable takes a question string or a dict with a "question" key')
    history = [_turn(item) for item in value.get("history") or ()]
    return str(value["question"]), history, value.get("language")


def _gathered(inputs: Iterable[Any]) -> Any:
    """The input of a streamed chain step, added up as LangChain adds chunks (the last one where they do not add)."""
    value = None
    for item in inputs:
        try:
            value = item if value is None else value + item
        except TypeError:
            value = item
    return value


def _chunk(event: AnswerEvent) -> AnswerChunk | Answer:
    if isinstance(event, DoneEvent):
        return event.answer
    if isinstance(event, ReplaceEvent):
        return AnswerChunk(event.text, replace=True, reason=event.reason)
    return AnswerChunk(event.text)


class AnswerRunnable(RunnableSerializable[AnswerInput | str, Answer]):
    """The whole answer pipeline as a LangChain ``Runnable``: ``invoke``/``batch``/``ainvoke`` return our ``Answer``;
    ``stream``/``astream`` yield ``AnswerChunk``s and end with the ``Answer`` (see ``AnswerChunk``).

    Answers are made one at a time (the assistant's answerer queues the rest), so ``batch`` gains nothing in speed
    over a loop; it is there for the interface.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    assistant: Any  # an ``Assistant``: typed Any so that pydantic does not build a schema of our dataclass

    _is_assistant = field_validator("assistant")(_an_assistant)

    # The streaming methods yield ``AnswerChunk``s before the ``Answer``: their sum is the output type, as a chat
    # model's message chunks add up to its message; hence the ``type: ignore[override]``s and ``[arg-type]``s below.

    def invoke(self, input: AnswerInput | str, config: RunnableConfig | None = None, **kwargs: Any) -> Answer:
        return self._call_with_config(self._answer, input, config, **kwargs)

    def _answer(self, value: AnswerInput | str) -> Answer:
        question, history, language = _request(value)
        return self.assistant.ask(question, history, language)

    def stream(  # type: ignore[override]
        self, input: AnswerInput | str, config: RunnableConfig | None = None, **kwargs: Any
    ) -> Iterator[AnswerChunk | Answer]:
        yield from self.transform(iter([input]), config, **kwargs)

    def transform(  # type: ignore[override]
        self, input: Iterator[AnswerInput | str], config: RunnableConfig | None = None, **kwargs: Any
    ) -> Iterator[AnswerChunk | Answer]:
        yield from self._transform_stream_with_config(input, self._pieces, config, **kwargs)  # type: ignore[arg-type]

    def _pieces(self, inputs: Iterator[AnswerInput | str]) -> Generator[AnswerChunk | Answer, None, None]:
        question, history, language = _request(_gathered(inputs))
        events = self.assistant.ask_stream(question, history, language)
        try:
            for event in events:
                yield _chunk(event)
        finally:
            close = getattr(events, "close", None)
            if close is not None:
                close()  # a consumer that stops early stops the generation

    async def astream(  # type: ignore[override]
        self, input: AnswerInput | str, config: RunnableConfig | None = None, **kwargs: Any
    ) -> AsyncIterator[AnswerChunk | Answer]:
        async def one() -> AsyncIterator[AnswerInput | str]:
            yield input

        async for chunk in self.atransform(one(), config, **kwargs):
            yield chunk

    async def atransform(  # type: ignore[override]
        self, input: AsyncIterator[AnswerInput | str], config: RunnableConfig | None = None, **kwargs: Any
    ) -> AsyncIterator[AnswerChunk | Answer]:
        async for chunk in self._atransform_stream_with_config(input, self._apieces, config, **kwargs):  # type: ignore[arg-type]
            yield chunk

    async def _apieces(self, inputs: AsyncIterator[AnswerInput | str]) -> AsyncIterator[AnswerChunk | Answer]:
        """The sync stream, each step in a worker thread: the model generates on the CPU and must not block the
        event loop."""
        pieces = self._pieces(iter([_gathered([item async for item in inputs])]))
        try:
            while (chunk := await run_in_executor(None, next, pieces, None)) is not None:
                yield chunk
        finally:
            with contextlib.suppress(ValueError):  # "generator already executing", when cancelled mid-step
                pieces.close()


# --- ingestion ---------------------------------------------------------------------------------------------------


def ingest_documents(
    assistant: Assistant, documents: Iterable[LCDocument], namespace: str = DEFAULT_NAMESPACE, progress: bool = False
) -> IngestReport:
    """Index LangChain ``Document``s with our chunking, hashing and atomic generations, as the whole content of
    ``namespace`` (like a folder for ``assistant ingest``): handing in the same documents again embeds nothing, a
    changed one is chunked anew, one no longer handed in is removed; other namespaces and files are left alone.

    Documents are identified by ``metadata["source"]`` (else their ``id``, else their text): those that share one
    (the pages of a PDF, the rows of a CSV) are joined in order into one document, as our own PDF reader does.
    Metadata read: ``title``, ``url`` (else a ``source`` that is a web address), ``language``, ``organisation``,
    ``kind`` and ``id`` (links the language variants of one document); the rest is not stored.
    """
    scope = f"{namespace}:"
    groups: dict[str, list[LCDocument]] = defaultdict(list)
    for doc in documents:
        groups[_source_key(doc)].append(doc)
    sources = [_source(key, group, scope) for key, group in groups.items()]
    return assistant.ingest_sources(sources, scope, progress=progress)


def _digest(value: object) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, ensure_ascii=False, default=str).encode()).hexdigest()


def _source_key(doc: LCDocument) -> str:
    return str(doc.metadata.get("source") or doc.id or f"text-{_digest(doc.page_content)[:16]}")


def _metadata(key: str, metadata: Mapping[str, Any]) -> dict[str, str]:
    """The LangChain metadata our chunker reads, under its names (``name`` is the organisation)."""
    is_web = urlsplit(key).scheme in ("http", "https")
    wanted = {
        "id": metadata.get("id") or metadata.get("doc_id") or key,
        "title": metadata.get("title"),
        "url": metadata.get("url") or (key if is_web else None),
        "name": metadata.get("organisation"),
        "kind": metadata.get("kind"),
        "language": str(metadata.get("language") or "").split("-")[0].lower() or None,
    }
    return {name: str(value) for name, value in wanted.items() if value}


def _source(key: str, docs: Sequence[LCDocument], scope: str) -> Source:
    """One source for the ingestor; its hash covers text and metadata, so a changed title re-chunks it too."""
    text = "\n\n".join(doc.page_content for doc in docs)
    meta = _metadata(key, docs[0].metadata)
    content_hash = _digest([text, meta])
    stem = PurePosixPath(urlsplit(key).path or key).stem or key

    def load() -> Document:
        return make_document(text, meta, stem, key, scope + key, content_hash, meta.get("language"))

    return Source(key=scope + key, shown=key, same=lambda indexed: indexed == content_hash, load=load)
