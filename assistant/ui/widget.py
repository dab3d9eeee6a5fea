"""The compact chat for other websites (``/widget``), opened in an iframe by ``/widget/embed.js``.

The language of its texts comes from ``?lang=`` (the snippet passes the host page's ``<html lang>``); answers
follow the question's language. Nothing is kept across page loads: the conversation lives in the gradio
session of this one page view.
"""

from __future__ import annotations

from html import escape
from typing import Any

import gradio as gr

from ..app import Assistant
from ..event import EventProfile
from ..settings import Settings
from ..web_security import RateLimiter
from .common import (
    QUIET,
    ScreenLimiter,
    answer_events,
    asker,
    header_html,
    question_field,
    rater,
    rating_controls,
    suggested,
    suggestion_buttons,
)
from .conversation import Conversation
from .render import render_conversation
from .static import read_static
from .texts import LANGUAGES, Language, language, text

N_SUGGESTIONS = 3
QUEUE_LIMIT = 4
WIDGET_TTL_S = 3600.0  # an abandoned widget's conversation is dropped from the server's memory after this


def widget_header(event: EventProfile, lang: Language) -> str:
    return header_html(event.text("widget_title", lang), event.text("widget_subtitle", lang), lang)


def greeting_html(event: EventProfile, lang: Language) -> str:
    return f'<p class="fa-greeting" lang="{lang}">{escape(event.text("greeting", lang))}</p>'


def widget_head() -> str:
    return f"<script>{read_static('screens.js')}</script>"


def build_widget(assistant: Assistant, settings: Settings, limiter: RateLimiter | None = None) -> gr.Blocks:
    """``limiter``: the app's, shared with the API and the other screen; a screen of its own by default."""
    screen_limiter = ScreenLimiter(RateLimiter(settings.rate_limit_per_minute) if limiter is None else limiter)
    event = assistant.event
    n_suggestions = min(N_SUGGESTIONS, max(len(event.questions(lang)) for lang in LANGUAGES))
    initial = event.questions("en")
    with gr.Blocks(title=event.text("widget_title", "en"), analytics_enabled=False, fill_width=True) as widget:
        state = gr.State(Conversation(language="en"), time_to_live=WIDGET_TTL_S)  # deep-copied per session
        header = gr.Markdown(widget_header(event, "en"), elem_id="fa-widget-header", latex_delimiters=[])
        conversation = gr.Markdown(
            render_conversation([], "en", "widget"),
            elem_id="fa-widget-conversation",
            latex_delimiters=[],
            sanitize_html=True,
            header_links=False,
        )
        with gr.Column(elem_id="fa-widget-suggestions") as suggestion_box:
            greeting = gr.Markdown(greeting_html(event, "en"), elem_id="fa-widget-greeting", latex_delimiters=[])
            suggestions = [
                gr.Button(
                    initial[i] if i < len(initial) else "",
                    visible=i < len(initial),
                    elem_classes=["fa-suggestion"],
                    size="md",
                )
                for i in range(n_suggestions)
            ]
        status = gr.Markdown("", elem_id="fa-widget-status")
        with gr.Row(elem_id="fa-widget-ask", equal_height=True):
            question = gr.Textbox(
                label=text("input_label", "en"),
                placeholder=text("placeholder", "en"),
                max_length=settings.max_question_chars,
                elem_id="fa-widget-question",
                scale=4,
                min_width=160,
                lines=1,
                max_lines=3,
            )
            send = gr.Button(text("send", "en"), variant="primary", elem_id="fa-widget-send", scale=1, min_width=70)
        new = gr.Button(text("new", "en"), elem_id="fa-widget-new", size="sm")
        rating, rate_send = rating_controls()  # the thumbs under each answer go through these

        def screen(conv: Conversation, clear: bool = False) -> list[Any]:
            lang = conv.language
            return [
                conv,
                widget_header(event, lang),
                render_conversation(conv.exchanges, lang, "widget"),
                gr.update(visible=not conv.exchanges),
                greeting_html(event, lang),
                *suggestion_buttons(event, lang, n_suggestions),
                question_field(lang, clear),
                text("send", lang),
                text("new", lang),
            ]

        screen_outputs = [state, header, conversation, suggestion_box, greeting, *suggestions, question, send, new]

        def start(conv: Conversation, request: gr.Request) -> list[Any]:
            conv.language = language(request.query_params.get("lang") if request else None, default="en")
            conv.touch()
            return screen(conv)

        ask = asker(assistant, screen_limiter, "widget", force_language=False)

        events = answer_events([state, conversation, question, suggestion_box], status, "widget-answer", QUEUE_LIMIT)
        gr.on([question.submit, send.click], ask, inputs=[state, question], **events)
        for i, button in enumerate(suggestions):
            button.click(suggested(ask, event, i), inputs=[state], **events)

        def reset(conv: Conversation) -> list[Any]:
            conv.reset()
            return screen(conv, clear=True)

        new.click(reset, inputs=[state], outputs=screen_outputs, **QUIET)
        rate_send.click(
            rater(assistant, "widget"), inputs=[state, rating], outputs=[state, conversation, rating], **QUIET
        )
        widget.load(start, inputs=[state], outputs=screen_outputs, **QUIET)
    return widget
