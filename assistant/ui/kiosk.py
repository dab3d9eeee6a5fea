"""The booth kiosk (``/kiosk``): full screen, touch-first, German/English, an idle reset for the next visitor.

The screen's timer lives in ``static/kiosk.js`` (it shows the countdown, then presses "New conversation");
``Conversation.expire`` enforces the same timeout on the server, so a question after a long pause never
carries the last visitor's conversation even if the page's timer did not run.
"""

from __future__ import annotations

import json
from collections.abc import Callable
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
from .texts import LANGUAGES, TEXTS, Language, text

QUEUE_LIMIT = 4  # gradio runs this many answers of the kiosk at once; the rest wait in gradio's queue


def kiosk_header(event: EventProfile, lang: Language) -> str:
    return header_html(event.text("title", lang), event.text("subtitle", lang), lang)


def attract_html(event: EventProfile, lang: Language) -> str:
    """The attract screen's greeting, and the heading over the suggested questions when there are any."""
    greeting = f'<p class="fa-greeting" lang="{lang}">{escape(event.text("greeting", lang))}</p>'
    if not event.questions(lang):
        return greeting
    return greeting + f'<h2 class="fa-attract-title" lang="{lang}">{escape(text("suggestions", lang))}</h2>'


def kiosk_head(settings: Settings) -> str:
    """The idle timer's configuration and the page script (inline: the CSP allows 'self' and inline scripts)."""
    config = {
        "language": settings.kiosk_language,
        "idle_s": settings.kiosk_idle_s,
        "countdown_s": settings.kiosk_countdown_s,
        "texts": {
            lang: {key: TEXTS[key][lang] for key in ("idle_title", "idle_body", "idle_stay")} for lang in LANGUAGES
        },
    }
    data = json.dumps(config, ensure_ascii=True).replace("<", "\\u003c")
    return (
        f'<script type="application/json" id="fa-kiosk-config">{data}</script>'
        f"<script>{read_static('screens.js')}</script><script>{read_static('kiosk.js')}</script>"
    )


def page_title(event: EventProfile, lang: Language) -> str:
    """The browser tab's title: the fair's name and the screen's heading (the heading alone without a name)."""
    name, title = event.name[lang], event.text("title", lang)
    return f"{name} · {title}" if name else title


def build_kiosk(assistant: Assistant, settings: Settings, limiter: RateLimiter | None = None) -> gr.Blocks:
    """``limiter``: the app's, shared with the API and the other screen; a screen of its own by default."""
    default: Language = settings.kiosk_language
    idle_s = settings.kiosk_idle_s
    screen_limiter = ScreenLimiter(RateLimiter(settings.rate_limit_per_minute) if limiter is None else limiter)
    event = assistant.event
    n_suggestions = max(len(event.questions(lang)) for lang in LANGUAGES)

    with gr.Blocks(title=page_title(event, default), analytics_enabled=False, fill_width=True) as kiosk:
        # A value, not a factory: gradio deep-copies it per session; a factory would run as an extra load event
        # that can overwrite what the screen's own load event set.
        state = gr.State(Conversation(language=default), time_to_live=max(600.0, idle_s * 2))
        with gr.Row(elem_id="fa-kiosk-top", equal_height=True):
            header = gr.Markdown(kiosk_header(event, default), elem_id="fa-kiosk-header", latex_delimiters=[], scale=1)
            lang_buttons: dict[Language, gr.Button] = {
                code: gr.Button(
                    name,
                    elem_id=f"fa-lang-{code}",
                    variant="primary" if code == default else "secondary",
                    size="lg",
                    scale=0,
                    min_width=170,
                )
                for code, name in zip(LANGUAGES, ("Deutsch", "English"), strict=True)
            }
        with gr.Column(elem_id="fa-attract") as attract:
            attract_title = gr.Markdown(attract_html(event, default), elem_id="fa-attract-title", latex_delimiters=[])
            with gr.Row(elem_id="fa-suggestions"):
                initial = event.questions(default)
                suggestions = [
                    gr.Button(
                        initial[i] if i < len(initial) else "",
                        visible=i < len(initial),
                        elem_classes=["fa-suggestion"],
                        size="lg",
                        min_width=280,
                    )
                    for i in range(n_suggestions)
                ]
        conversation = gr.Markdown(
            render_conversation([], default, "kiosk"),
            elem_id="fa-kiosk-conversation",
            latex_delimiters=[],
            sanitize_html=True,
            header_links=False,
        )
        status = gr.Markdown("", elem_id="fa-kiosk-status")
        with gr.Row(elem_id="fa-kiosk-ask", equal_height=True):
            question = gr.Textbox(
                label=text("input_label", default),
                placeholder=text("placeholder", default),
                max_length=settings.max_question_chars,
                elem_id="fa-kiosk-question",
                scale=5,
                lines=1,
                max_lines=3,
                autoscroll=False,
            )
            send = gr.Button(text("send", default), variant="primary", elem_id="fa-kiosk-send", size="lg", scale=1)
            new = gr.Button(text("new", default), elem_id="fa-kiosk-new", size="lg", scale=1)
        # Pressed by the page's idle timer (static/kiosk.js): like "New conversation", and back to the default language.
        idle_reset = gr.Button("reset", elem_id="fa-kiosk-idle-reset", visible="hidden")
        rating, rate_send = rating_controls()  # the thumbs under each answer go through these

        def screen(conv: Conversation, clear: bool = False) -> list[Any]:
            """Every text that depends on the language, and the attract screen when nothing was asked."""
            lang = conv.language
            return [
                conv,
                kiosk_header(event, lang),
                attract_html(event, lang),
                gr.update(visible=not conv.exchanges),
                *suggestion_buttons(event, lang, n_suggestions),
                render_conversation(conv.exchanges, lang, "kiosk"),
                question_field(lang, clear),
                text("send", lang),
                text("new", lang),
                *[gr.update(variant="primary" if code == lang else "secondary") for code in LANGUAGES],
            ]

        screen_outputs = [state, header, attract_title, attract, *suggestions, conversation, question, send, new]
        screen_outputs += list(lang_buttons.values())

        ask = asker(assistant, screen_limiter, "kiosk", force_language=True, idle_s=idle_s)

        events = answer_events([state, conversation, question, attract], status, "kiosk-answer", QUEUE_LIMIT)
        gr.on([question.submit, send.click], ask, inputs=[state, question], **events)
        for i, button in enumerate(suggestions):
            button.click(suggested(ask, event, i), inputs=[state], **events)

        def switch(lang: Language) -> Callable[[Conversation], list[Any]]:
            def handler(conv: Conversation) -> list[Any]:
                conv.language = lang
                conv.touch()
                return screen(conv)

            return handler

        for code in LANGUAGES:
            lang_buttons[code].click(switch(code), inputs=[state], outputs=screen_outputs, **QUIET)

        def reset(conv: Conversation) -> list[Any]:
            conv.reset()
            return screen(conv, clear=True)

        def idle(conv: Conversation) -> list[Any]:
            conv.reset(language=default)
            return screen(conv, clear=True)

        new.click(reset, inputs=[state], outputs=screen_outputs, **QUIET)
        idle_reset.click(idle, inputs=[state], outputs=screen_outputs, **QUIET)
        rate_send.click(
            rater(assistant, "kiosk", idle_s), inputs=[state, rating], outputs=[state, conversation, rating], **QUIET
        )

        def start(conv: Conversation) -> list[Any]:
            conv.touch()
            return screen(conv)

        kiosk.load(start, inputs=[state], outputs=screen_outputs, **QUIET)
    return kiosk
