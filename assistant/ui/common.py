"""Pieces the kiosk and the widget share."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from html import escape
from typing import TYPE_CHECKING, Any, Literal

import gradio as gr

from ..web_security import RateLimiter, client_key
from .conversation import Conversation, rate, stream_answer
from .render import render_conversation
from .texts import Language, text

if TYPE_CHECKING:
    from ..app import Assistant
    from ..event import EventProfile

Ask = Callable[[Conversation, str, gr.Request], Iterator[list[Any]]]


class ScreenLimiter:
    """The per-client rate limit for the questions asked on a screen: the API's own limiter when mounted into the
    app (``mount_screens``), so that a client has one budget on every surface."""

    def __init__(self, limiter: RateLimiter) -> None:
        self.limiter = limiter

    def allows(self, request: gr.Request | None) -> bool:
        return self.limiter.take(client_key(request)) == 0.0


def asker(
    assistant: Assistant,
    limiter: ScreenLimiter,
    screen: Literal["kiosk", "widget"],
    force_language: bool,
    idle_s: float | None = None,
) -> Ask:
    """A screen's question handler: rate-limited, streamed into the conversation. The kiosk forces its language
    and drops an idle conversation first (``idle_s``); the widget lets the answer follow the question."""

    def ask(conv: Conversation, q: str, request: gr.Request) -> Iterator[list[Any]]:
        if not q.strip() or conv.busy:
            yield [conv, gr.skip(), gr.skip(), gr.skip()]
            return
        if not limiter.allows(request):
            conv.note(q, text("rate_limited", conv.language), conv.language)
            yield [conv, render_conversation(conv.exchanges, conv.language, screen), "", gr.update(visible=False)]
            return
        if idle_s is not None:
            conv.expire(idle_s)
        for _ in stream_answer(assistant, conv, q, conv.language if force_language else None, screen):
            yield [conv, render_conversation(conv.exchanges, conv.language, screen), "", gr.update(visible=False)]

    return ask


def question_field(lang: Language, clear: bool = False) -> Any:
    """The question box's label and placeholder in ``lang``; emptied when ``clear``."""
    label, placeholder = text("input_label", lang), text("placeholder", lang)
    if clear:
        return gr.update(value="", label=label, placeholder=placeholder)
    return gr.update(label=label, placeholder=placeholder)


def suggested(ask: Ask, event: EventProfile, index: int) -> Callable[[Conversation, gr.Request], Iterator[list[Any]]]:
    """A suggestion button's handler: asks the event's suggestion at ``index`` in the conversation's language
    (nothing, when that language has fewer: the button is hidden then)."""

    def handler(conv: Conversation, request: gr.Request) -> Iterator[list[Any]]:
        questions = event.questions(conv.language)
        yield from ask(conv, questions[index] if index < len(questions) else "", request)

    return handler


def suggestion_buttons(event: EventProfile, lang: Language, count: int) -> list[Any]:
    """Updates for ``count`` suggestion buttons: the event's questions in ``lang``, the buttons beyond them hidden."""
    questions = event.questions(lang)[:count]
    return [
        gr.update(value=questions[i], visible=True) if i < len(questions) else gr.update(value="", visible=False)
        for i in range(count)
    ]


def header_html(title: str, subtitle: str, lang: Language) -> str:
    """A screen's heading and the line below it (the event's, escaped)."""
    return f'<div class="fa-header" lang="{lang}"><h1>{escape(title)}</h1><p>{escape(subtitle)}</p></div>'


# Screen changes (language, reset, first load) are instant: no progress overlay over the texts.
QUIET: dict[str, Any] = {"show_progress": "hidden", "api_visibility": "private"}


def answer_events(outputs: Sequence[Any], status: Any, concurrency_id: str, limit: int) -> dict[str, Any]:
    """How an answer event runs: gradio's queue position shows on the status line, not over the conversation."""
    return {
        "outputs": list(outputs),
        "show_progress": "minimal",
        "show_progress_on": [status],
        "concurrency_limit": limit,
        "concurrency_id": concurrency_id,
        "api_visibility": "private",
    }


def rating_controls() -> tuple[Any, Any]:
    """The hidden field and button a thumb under an answer goes through: the thumbs are buttons in the rendered
    conversation, and ``static/screens.js`` puts the pressed one's value into the field and presses the button (as
    the kiosk's idle timer presses its hidden reset button)."""
    field = gr.Textbox("", elem_id="fa-rating", visible="hidden", label="rating", max_length=64)
    button = gr.Button("rate", elem_id="fa-rating-send", visible="hidden")
    return field, button


def rater(
    assistant: Assistant, screen: Literal["kiosk", "widget"], idle_s: float | None = None
) -> Callable[[Conversation, str], list[Any]]:
    """A screen's rating handler: stores the thumbs and shows the thanks. The kiosk first drops an idle
    conversation (``idle_s``), so a press after the idle time never rates the last visitor's answer for the next."""

    def handler(conv: Conversation, payload: str) -> list[Any]:
        if idle_s is None or not conv.expire(idle_s):
            rate(assistant, conv, payload or "")
        return [conv, render_conversation(conv.exchanges, conv.language, screen), ""]

    return handler
