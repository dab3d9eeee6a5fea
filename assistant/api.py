"""The HTTP API: one ASGI app that receives a built ``Assistant``. The screens are mounted into the same app.

Routes: ``GET /api/ready``, ``POST /api/chat`` (JSON, or Server-Sent Events), ``POST /api/feedback`` (a rating of
an answer, by the ``answer_id`` the answer carried), docs at ``/api/docs``; the organiser page at ``/organiser/``
when ``organiser_token`` is set (``organiser/web.py``).
Errors leave as ``{"error": "<a message a visitor can read>"}`` with a fitting status; never a traceback.
"""

from __future__ import annotations

import contextlib
import html
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, Field
from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool

from .answering import checked_question
from .app import Assistant
from .errors import AssistantError, Busy, IndexEmpty
from .feedback import add_feedback_route
from .lang import load_detector
from .organiser.web import add_organiser_routes
from .record import new_id
from .settings import Settings
from .store import VectorStore
from .types import Answer, AnswerEvent, ReplaceEvent, TokenEvent, Turn
from .web_security import (
    INTERNAL_ERROR,
    AccessLogMiddleware,
    BodyLimitMiddleware,
    RateLimited,
    RateLimiter,
    SecurityHeadersMiddleware,
    add_error_handlers,
    client_key,
    logger,
    security_headers,
)

MAX_BODY_BYTES = 64 * 1024
MAX_TURNS = 20
MAX_TURN_CHARS = 2000
PING_S = 15  # a comment line (": ping …") this often keeps a proxy from closing a stream that waits in the queue


_CHAT_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {"text/event-stream": {}},
        "description": "The answer JSON; or events: queued {position}, token {text}, replace {text, reason}, "
        "done {the answer JSON}, error {error}.",
    },
    422: {"description": "Invalid or rejected question"},
    429: {"description": "Too many requests; see Retry-After"},
    503: {"description": "Nothing indexed, or the store or a model is unavailable"},
}


class TurnIn(BaseModel):
    role: Literal["user", "assistant"] = Field(description="Who said it.")
    content: str = Field(max_length=MAX_TURN_CHARS, description="What was said.")


class ChatRequest(BaseModel):
    question: str = Field(description="The visitor's question; at most `max_question_chars` (setting) characters.")
    history: list[TurnIn] = Field(
        default_factory=list, max_length=MAX_TURNS, description="Earlier turns, oldest first."
    )
    language: Literal["de", "en"] | None = Field(None, description="Force the answer language; null: follow.")
    follows: str | None = Field(
        None,
        max_length=64,
        description="The answer_id of the previous answer of this conversation, if any: the anonymous record keeps "
        "a conversation's follow-ups together (under an id of its own that is never shown).",
    )


@dataclass
class Readiness:
    """Set by the warm-up; ``error`` says why it failed."""

    done: threading.Event = field(default_factory=threading.Event)
    error: str | None = None


BUSY = (
    "Gerade kommen sehr viele Fragen gleichzeitig — bitte gleich noch einmal versuchen. / "
    "Many questions at once right now — please ask again in a moment."
)
SPARE_THREADS = 16  # worker threads kept free for /api/ready, the screens and the request holding the slot


class Admission:
    """Chat requests in flight: retrieving, waiting for the one generation slot, or generating.

    Each of them holds one of the server's worker threads while it waits; if waiting requests took every thread,
    the one holding the slot could not produce its next token and the server would stall. So at most ``limit``
    are taken (the thread pool is sized above that), and the rest get a polite 503 at once.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._in_flight = 0
        self._lock = threading.Lock()

    @property
    def in_flight(self) -> int:
        return self._in_flight

    def enter(self) -> _Ticket:
        with self._lock:
            if self._in_flight >= self.limit:
                raise Busy(BUSY)
            ahead = self._in_flight
            self._in_flight += 1
        return _Ticket(self, ahead)

    def _leave(self) -> None:
        with self._lock:
            self._in_flight -= 1


class _Ticket:
    """One admitted request; ``ahead`` is how many were in flight when it came. Leaving twice is harmless."""

    def __init__(self, admission: Admission, ahead: int) -> None:
        self.admission = admission
        self.ahead = ahead
        self._left = False

    def leave(self) -> None:
        if not self._left:
            self._left = True
            self.admission._leave()


async def _size_thread_pool(needed: int) -> None:
    import anyio.to_thread

    limiter = anyio.to_thread.current_default_thread_limiter()
    if limiter.total_tokens < needed:
        limiter.total_tokens = needed


class _PassageCount:
    """Passages in the active index, counted once per index generation."""

    def __init__(self, store: VectorStore) -> None:
        self.store = store
        self._cached: tuple[str | None, int] = (None, 0)

    def __call__(self) -> int:
        generation = self.store.generation()
        if generation is None:
            return 0
        if self._cached[0] != generation:
            self._cached = (generation, len(self.store.chunks()))
        return self._cached[1]


def create_app(assistant: Assistant, settings: Settings) -> FastAPI:
    app = FastAPI(
        title="Trade-fair assistant API",
        summary="Answers visitors' questions from the indexed documents, with sources (German and English).",
        docs_url=None,
        redoc_url=None,
        openapi_url="/api/openapi.json",
    )
    app.state.readiness = readiness = Readiness()
    count_passages = _PassageCount(assistant.store)
    # One bucket per client for the API and both screens (mount_screens takes it from here): one generation slot
    # serves them all, so three surfaces must not mean three times the questions.
    app.state.limiter = limiter = RateLimiter(settings.rate_limit_per_minute)
    app.state.admission = admission = Admission(settings.max_questions_in_flight)
    app.add_middleware(AccessLogMiddleware)
    app.add_middleware(BodyLimitMiddleware, max_bytes=MAX_BODY_BYTES)
    headers = security_headers(settings.allowed_embed_origins)  # a bad origin fails here, not on a request
    app.add_middleware(SecurityHeadersMiddleware, headers=headers)  # outermost: every response gets them
    add_error_handlers(app)

    async def rate_limit(request: Request) -> None:
        await _size_thread_pool(admission.limit + SPARE_THREADS)
        wait = limiter.take(client_key(request))
        if wait:
            raise RateLimited(wait)

    @app.get("/api/ready", summary="Whether the models are loaded and documents indexed (503 until then).")
    def ready() -> JSONResponse:
        if readiness.error:
            return _not_ready(f"Warm-up failed: {readiness.error}")
        if not readiness.done.is_set():
            return _not_ready("Warming up — loading the models, please try again in a moment.")
        passages = count_passages()
        if passages == 0:
            return _not_ready("No documents indexed yet — run `assistant ingest`.")
        return JSONResponse({"ready": True, "passages": passages, "model": assistant.answerer.model_name})

    @app.post(
        "/api/chat",
        summary="Answer a question (the `assistant ask --json` object); SSE with `Accept: text/event-stream`.",
        dependencies=[Depends(rate_limit)],
        response_model=None,
        responses=_CHAT_RESPONSES,
    )
    def chat(body: ChatRequest, request: Request, stream: bool = False) -> Response:
        checked_question(body.question, settings, body.language)  # refused before any work, before a stream starts
        history = [Turn(t.role, t.content) for t in body.history]
        visit = _visit(assistant, body, history)
        if stream or "text/event-stream" in request.headers.get("accept", ""):
            if count_passages() == 0:
                raise IndexEmpty()
            answer = _SseAnswer(assistant, body.question, history, body.language, admission.enter(), visit)
            # Stopped when the visitor goes away (at once, not at the next token), and after the response as well.
            return EventSourceResponse(
                answer.events(),
                headers={"Cache-Control": "no-cache"},  # and X-Accel-Buffering: no, sse-starlette's own
                ping=PING_S,
                sep="\n",
                client_close_handler_callable=answer.left,
                background=BackgroundTask(answer.stop),
            )
        ticket = admission.enter()
        try:
            answered = assistant.ask(body.question, history, body.language)
        finally:
            ticket.leave()
        return JSONResponse(_answer_json(assistant, answered, visit))

    add_feedback_route(app, assistant)
    add_organiser_routes(app, assistant)  # /organiser/, only when organiser_token is set

    @app.get("/api/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return HTMLResponse(_docs_html(app.openapi()))

    return app


def start_warm_up(app: FastAPI, assistant: Assistant) -> threading.Thread:
    # A daemon thread, not an executor's future: nobody waits for a result (``readiness`` is it), and an executor's
    # worker is joined at exit, so Ctrl-C during the warm-up would wait for the models to finish loading.
    thread = threading.Thread(target=warm_up, args=(app, assistant), name="warm-up", daemon=True)
    thread.start()
    return thread


def warm_up(app: FastAPI, assistant: Assistant) -> None:
    """Load the language detector, the embedder (one search) and the chat model (one tiny generation), then mark
    the app ready.

    A chat model that cannot load is only a warning: answers then come as quotes from the passages.
    """
    readiness: Readiness = app.state.readiness
    try:
        assistant.on_model_thread(lambda: _load_models(assistant))  # where the models will run
    except AssistantError as exc:
        readiness.error = str(exc)
        logger.error("warm-up failed: %s", exc)
        return
    except Exception as exc:
        readiness.error = "unexpected error, see the server log"
        logger.error("warm-up failed", exc_info=exc)
        return
    readiness.done.set()


def _load_models(assistant: Assistant) -> None:
    load_detector()
    try:
        assistant.retriever.search("warm-up", k=1)
    except IndexEmpty:
        assistant.embedder.embed_query("warm-up")
    try:
        assistant.answerer.warm_up()
    except AssistantError as exc:
        logger.warning("chat model not available, answers will be quotes: %s", exc)


def _not_ready(detail: str) -> JSONResponse:
    return JSONResponse({"ready": False, "detail": detail}, status_code=503)


def _visit(assistant: Assistant, body: ChatRequest, history: list[Turn]) -> tuple[str, int]:
    """(conversation id, turn) for the record: the previous answer's conversation when ``follows`` names a
    recorded one, else a new random id; the turn counts the visitor's earlier questions."""
    turn = sum(1 for t in history if t.role == "user")
    if body.follows and assistant.recorder is not None:
        found = assistant.recorder.conversation_of(body.follows)
        if found is not None:
            return found[0], max(turn, found[1] + 1)
    return new_id(), turn


def _answer_json(assistant: Assistant, answer: Answer, visit: tuple[str, int]) -> dict[str, Any]:
    """The answer's JSON with its ``answer_id`` (recorded, when recording is on)."""
    return {**answer.to_json(), "answer_id": assistant.record(answer, "api", *visit)}


def _sse(event: str, data: dict[str, Any]) -> ServerSentEvent:
    return ServerSentEvent(json.dumps(data, ensure_ascii=False), event=event, sep="\n")


class _SseAnswer:
    """One streamed answer: its events, and ``stop``, which ends its work and returns the ticket."""

    def __init__(
        self,
        assistant: Assistant,
        question: str,
        history: list[Turn],
        language: str | None,
        ticket: _Ticket,
        visit: tuple[str, int],
    ) -> None:
        self.assistant, self.question, self.history, self.language = assistant, question, history, language
        self.ticket, self.visit = ticket, visit
        self._events: Iterator[AnswerEvent] | None = None
        self._stopped = False
        self._lock = threading.Lock()

    def events(self) -> Iterator[ServerSentEvent]:
        """A sync generator: sse-starlette runs each step in a worker thread, so waiting for an event never blocks the
        loop (with `serve`, the answer itself is made on the assistant's model thread)."""
        # Ahead: the requests in flight when this one came (they may still be retrieving), or the screens' and
        # other callers' questions waiting for the model, whichever is more.
        ahead = max(self.ticket.ahead, self.assistant.answers_ahead)
        if ahead:
            yield _sse("queued", {"position": ahead + 1})
        with self._lock:
            if self._stopped:
                return
            self._events = events = self.assistant.ask_stream(self.question, self.history, self.language)
        try:
            for event in events:
                if isinstance(event, TokenEvent):
                    yield _sse("token", {"text": event.text})
                elif isinstance(event, ReplaceEvent):
                    yield _sse("replace", {"text": event.text, "reason": event.reason})
                else:
                    yield _sse("done", _answer_json(self.assistant, event.answer, self.visit))
        except AssistantError as exc:
            yield _sse("error", {"error": str(exc)})
        except Exception as exc:
            logger.error("unexpected error in an answer stream", exc_info=exc)
            yield _sse("error", {"error": INTERNAL_ERROR})
        finally:
            self.stop()

    async def left(self, message: object) -> None:
        """sse-starlette heard the visitor go away (``http.disconnect``)."""
        await run_in_threadpool(self.stop)  # closing a suspended generator runs its cleanup: not on the loop

    def stop(self) -> None:
        """Idempotent. When the visitor left, the response ends while a worker thread may still wait for the next
        event: an answer on the model thread is told from here to stop (it does at its next token); a plain
        generator that is running cannot be closed from another thread, and ends when it is collected."""
        with self._lock:
            self._stopped, events = True, self._events
        close = getattr(events, "close", None)
        if close is not None:
            with contextlib.suppress(ValueError):  # "generator already executing" (in that worker thread)
                close()
        self.ticket.leave()


def _docs_html(schema: dict[str, Any]) -> str:
    """Self-contained API docs (Swagger UI would load its scripts from a CDN: offline, that is a blank page)."""
    e = html.escape
    parts = [f"<h1>{e(schema['info']['title'])}</h1><p>{e(schema['info'].get('summary', ''))}</p>"]
    parts.append('<p>Machine-readable: <a href="/api/openapi.json">/api/openapi.json</a></p>')
    for path, methods in schema.get("paths", {}).items():
        for method, op in methods.items():
            parts.append(f"<h2><code>{e(method.upper())} {e(path)}</code></h2><p>{e(op.get('summary', ''))}</p>")
            codes = ", ".join(f"{e(code)} {e(r.get('description', ''))}" for code, r in op["responses"].items())
            parts.append(f"<p>Responses: {codes}</p>")
    for name, model in schema.get("components", {}).get("schemas", {}).items():
        if name.startswith(("HTTPValidationError", "ValidationError")):
            continue
        rows = "".join(
            f"<tr><td><code>{e(p)}</code></td><td>{e(json.dumps(s.get('type', s.get('anyOf', s.get('enum', '')))))}"
            f"</td><td>{e(s.get('description', ''))}</td></tr>"
            for p, s in model.get("properties", {}).items()
        )
        parts.append(f"<h3>{e(name)}</h3><table><tr><th>field</th><th>type</th><th>about</th></tr>{rows}</table>")
    style = "body{font-family:sans-serif;max-width:60rem;margin:2rem auto}td,th{padding:.2rem .6rem;text-align:left}"
    return f"<!doctype html><html><head><title>API</title><style>{style}</style></head><body>{''.join(parts)}</body>"
