"""The composition root: the only place that builds the embedder, the store and the chat model, and reads the
event profile (``<knowledge_dir>/event.toml``) that the prompts and the screens are worded from."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from .answering import Answerer
from .chat_models import ChatModel, Message, make_chat_model
from .embedders import Embedder, LazyEmbedder
from .env import set_offline_env
from .event import EventProfile, load_event, neutral
from .ingest import Ingestor, IngestReport, Source
from .model_thread import ModelThread
from .record import Recorder, make_recorder, new_id
from .retrieval import HybridRetriever
from .settings import Settings
from .store import VectorStore, make_store
from .types import Answer, AnswerEvent, Passage, Turn

T = TypeVar("T")


@dataclass
class Assistant:
    settings: Settings
    store: VectorStore
    embedder: Embedder
    retriever: HybridRetriever
    answerer: Answerer
    model_thread: ModelThread | None = None  # set by `serve`: searches and answers then run on it, one at a time
    event: EventProfile = field(default_factory=neutral)  # the fair: prompts, screens, what "today" means
    recorder: Recorder | None = None  # the anonymous record; None when record_questions is off

    def on_model_thread(self, fn: Callable[[], T]) -> T:
        return fn() if self.model_thread is None else self.model_thread.call(fn)

    @property
    def answers_ahead(self) -> int:
        """Answers a new question would wait behind: the running one and those waiting for the model."""
        answerer, thread = self.answerer, self.model_thread
        ahead = answerer.queue_depth + (1 if answerer.busy else 0)
        if thread is not None:
            ahead = max(ahead, thread.queue_depth + (1 if thread.busy else 0))
        return ahead

    def ingest(self, paths: Sequence[Path] | None = None, progress: bool = True) -> IngestReport:
        ingestor = Ingestor(self.store, self.embedder, self.settings, progress=progress)
        return ingestor.run(list(paths) if paths else [self.settings.knowledge_dir])

    def ingest_sources(self, sources: Sequence[Source], scope: str, progress: bool = False) -> IngestReport:
        """Index sources made elsewhere (the LangChain integration's documents) as the whole content of ``scope``."""
        return Ingestor(self.store, self.embedder, self.settings, progress=progress).run_sources(sources, scope)

    def search(self, question: str, k: int | None = None, language: str | None = None) -> list[Passage]:
        return self.on_model_thread(lambda: self.retriever.search(question, k=k, language=language))

    def ask(self, question: str, history: Sequence[Turn] = (), language: str | None = None) -> Answer:
        return self.on_model_thread(lambda: self.answerer.ask(question, history, language))

    def ask_stream(
        self, question: str, history: Sequence[Turn] = (), language: str | None = None
    ) -> Iterator[AnswerEvent]:
        if self.model_thread is None:
            return self.answerer.stream(question, history, language)
        return self.model_thread.stream(lambda: self.answerer.stream(question, history, language))

    def record(self, answer: Answer, surface: str, conversation: str, turn: int) -> str:
        """Record an answer of a screen or the API (when recording is on); returns the answer's id, which the
        visitor's rating refers to. Never raises: a failing database only drops the record."""
        answer_id = new_id()
        if self.recorder is not None:
            self.recorder.record(answer, surface, conversation, turn, answer_id)
        return answer_id

    def rate(self, answer_id: str, rating: str, reason: str | None = None) -> bool | None:
        """A visitor's rating of a recorded answer, from the API or a screen's thumbs (one path for both): True
        when stored, False when no such answer is recorded (or recording is off), None when the database is down."""
        return self.recorder.rate(answer_id, rating, reason) if self.recorder is not None else False


_UNSET = object()


class _LazyChat:
    """Builds the configured chat model on first use: `ingest` and `search` never need it."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._inner: ChatModel | None = None
        self.name = f"{settings.llm_backend}:{settings.llm_model}"

    @property
    def inner(self) -> ChatModel:
        if self._inner is None:
            model = make_chat_model(self._settings)
            assert model is not None
            self._inner = model
        return self._inner

    def stream(
        self,
        messages: Sequence[Message],
        max_tokens: int,
        temperature: float,
        stop: Sequence[str] = (),
        avoid: Sequence[str] = (),
    ) -> Iterator[str]:
        return self.inner.stream(messages, max_tokens, temperature, stop, avoid)


def _lazy_chat(settings: Settings) -> ChatModel | None:
    return None if settings.llm_backend == "none" else _LazyChat(settings)


def build_assistant(
    settings: Settings,
    embedder: Embedder | None = None,
    store: VectorStore | None = None,
    chat: ChatModel | object | None = _UNSET,
    event: EventProfile | None = None,
) -> Assistant:
    """Build everything from settings; tests may hand in a ready embedder, store, chat model or event profile.

    The event profile is read here, once, from the knowledge folder (a broken ``event.toml`` fails here, with its
    key named, not at the first question); without the file it is the neutral one.
    """
    set_offline_env()
    event = event if event is not None else load_event(settings.knowledge_dir)
    embedder = embedder or LazyEmbedder(settings)
    store = store or make_store(settings)
    retriever = HybridRetriever(store, embedder, settings)
    chat_model = _lazy_chat(settings) if chat is _UNSET else chat
    answerer = Answerer(retriever, chat_model, settings, event)  # type: ignore[arg-type]
    recorder = make_recorder(settings, store)
    return Assistant(settings, store, embedder, retriever, answerer, event=event, recorder=recorder)
