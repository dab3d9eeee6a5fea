"""HTML for the screens, built from escaped text only.

Nothing from a document, the model or the visitor reaches the page as markup: every text goes through
``html.escape``; the only links are http(s) URLs from the sources' metadata, checked by ``urls.safe_url`` (as the
API's are). gradio's Markdown component sanitises the result once more (it drops scripts, event handlers and
``javascript:`` links).
Everything is emitted on one line: a blank line would end the HTML block and let Markdown read the rest.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from html import escape
from typing import Literal

import segno

from ..types import Source
from ..urls import safe_url
from .texts import Language, text

Status = Literal["queued", "thinking", "streaming", "done", "error"]
Mode = Literal["kiosk", "widget"]


@dataclass
class Exchange:
    """One question and its answer as the screen shows it (and nothing more)."""

    question: str
    language: Language
    answer: str = ""
    status: Status = "thinking"
    ahead: int = 0  # questions before this one while queued
    sources: tuple[Source, ...] = field(default_factory=tuple)
    answer_id: str = ""  # the recorded answer's id, which a rating refers to; stays on the server
    rateable: bool = False  # recorded, so the thumbs are shown
    rating: str | None = None  # the visitor's thumbs: "up" or "down", once stored
    reason: str | None = None  # why "down", from FEEDBACK_REASONS
    key: str = field(default_factory=lambda: secrets.token_hex(8))  # names the exchange on the page (the thumbs)


FEEDBACK_REASONS = ("wrong", "incomplete", "not_my_language", "did_not_answer")  # the record's fixed list
# Material Design icons "thumb_up" and "thumb_down" (Apache License 2.0): inline, no emoji font needed on the kiosk.
_THUMBS = {
    "up": "M1 21h4V9H1v12zm22-11c0-1.1-.9-2-2-2h-6.31l.95-4.57.03-.3c0-.41-.17-.79-.44-1.06L14.17 1 7.59 7.59C7.22 "
    "7.95 7 8.45 7 9v10c0 1.1.9 2 2 2h9c.83 0 1.54-.5 1.84-1.22l3.02-7.05c.09-.23.14-.47.14-.73v-2z",
    "down": "M15 3H6c-.83 0-1.54.5-1.84 1.22l-3.02 7.05c-.09.23-.14.47-.14.73v2c0 1.1.9 2 2 2h6.31l-.95 4.57-.03.32c0 "
    ".41.17.79.44 1.06L9.83 23l6.59-6.59c.36-.36.58-.86.58-1.41V5c0-1.1-.9-2-2-2zm4 0v12h4V3h-4z",
}


def qr_svg(url: str, label: str, scale: int = 5) -> str:
    """An inline SVG QR code of ``url`` (segno escapes the title)."""
    svg = segno.make(url, error="m", micro=False).svg_inline(
        scale=scale, border=2, title=label, svgclass="fa-qr-code", dark="#000000", light="#ffffff"
    )
    return svg.replace("<svg ", '<svg role="img" ', 1)


def paragraph(value: str) -> str:
    """Escaped text; line breaks kept as ``<br>`` (never a blank line in the output)."""
    lines = [escape(line, quote=True) for line in value.strip().splitlines() if line.strip()]
    return "<br>".join(lines)


def render_conversation(exchanges: Sequence[Exchange], lang: Language, mode: Mode) -> str:
    """The whole conversation; ``role="log"`` makes it a polite live region for screen readers."""
    turns = "".join(_exchange(i, ex, mode) for i, ex in enumerate(exchanges))
    label = escape(text("conversation", lang))
    return f'<div class="fa-conv fa-{mode}" role="log" lang="{lang}" title="{label}">{turns}</div>'


def _exchange(index: int, ex: Exchange, mode: Mode) -> str:
    lang = ex.language
    question = (
        f'<p class="fa-q"><span class="fa-who">{escape(text("you", lang))}</span>'
        f'<span class="fa-text">{paragraph(ex.question)}</span></p>'
    )
    if ex.status == "queued":
        body = f'<p class="fa-status fa-queued">{escape(text("queued", lang, ahead=ex.ahead))}</p>'
    elif ex.status == "thinking":
        body = f'<p class="fa-status fa-thinking">{escape(text("thinking", lang))}</p>'
    elif ex.status == "error":
        body = f'<p class="fa-status fa-error">{paragraph(ex.answer)}</p>'
    else:
        body = f'<p class="fa-text">{paragraph(ex.answer)}</p>'
        if ex.status == "done" and ex.sources:
            body += kiosk_sources(index, ex.sources, lang) if mode == "kiosk" else widget_sources(ex.sources, lang)
        if ex.status == "done" and ex.rateable:
            body += feedback_html(ex)
    return (
        f'<section class="fa-turn fa-{ex.status}" lang="{lang}">{question}'
        f'<div class="fa-a"><span class="fa-who">{escape(text("assistant", lang))}</span>'
        f"{body}</div></section>"
    )


def kiosk_sources(index: int, sources: Sequence[Source], lang: Language) -> str:
    """Numbered chips; each opens a card in place (a ``<details>``: no script needed, keyboard-operable)."""
    chips = "".join(_kiosk_card(index, s, lang) for s in sources)
    return (
        f'<div class="fa-sources"><p class="fa-sources-title">{escape(text("sources", lang))} · '
        f'<span class="fa-hint">{escape(text("source_hint", lang))}</span></p>{chips}</div>'
    )


def _kiosk_card(index: int, source: Source, lang: Language) -> str:
    url = safe_url(source.url)
    if url:
        website = f'<p class="fa-url"><span class="fa-label">{escape(text("website", lang))}:</span> {escape(url)}</p>'
        qr = (
            f'<figure class="fa-qr">{qr_svg(url, text("qr", lang))}'
            f"<figcaption>{escape(text('qr_hint', lang))}</figcaption></figure>"
        )
    else:
        website, qr = f'<p class="fa-url">{escape(text("no_website", lang))}</p>', ""
    organisation = (
        f'<p class="fa-org"><span class="fa-label">{escape(text("organisation", lang))}:</span> '
        f"{escape(source.organisation)}</p>"
        if source.organisation
        else ""
    )
    return (
        f'<details class="fa-chip" name="fa-sources-{index}"><summary>'
        f'<span class="fa-n">{source.n}</span> {escape(source.title)}</summary>'
        f'<div class="fa-card"><h3 class="fa-card-title">{escape(source.title)}</h3>{organisation}'
        f'<blockquote class="fa-snippet">{paragraph(source.snippet)}</blockquote>{website}{qr}'
        f'<button type="button" class="fa-close">{escape(text("close", lang))}</button></div></details>'
    )


def widget_sources(sources: Sequence[Source], lang: Language) -> str:
    """Numbered links to the sources' websites (a new tab, no referrer); a source without one is plain text."""
    items = []
    for s in sources:
        label = f'<span class="fa-n">{s.n}</span> {escape(s.title)}'
        url = safe_url(s.url)
        if url:
            hint = escape(text("opens_new_tab", lang))
            label = (
                f'<a href="{escape(url, quote=True)}" target="_blank" rel="noopener noreferrer" '
                f'title="{hint}">{label}</a>'
            )
        org = f' <span class="fa-org">– {escape(s.organisation)}</span>' if s.organisation else ""
        items.append(f"<li>{label}{org}</li>")
    return (
        f'<div class="fa-sources"><p class="fa-sources-title">{escape(text("sources", lang))}</p>'
        f'<ol class="fa-links">{"".join(items)}</ol></div>'
    )


def _rate_button(ex: Exchange, choice: str, label: str) -> str:
    """A native button (keyboard-operable, named by its visible text); its value tells the page's script which
    exchange and which choice (``static/screens.js`` hands it to the screen's hidden rating field). gradio's
    sanitiser drops aria-pressed and the icon's viewBox: the chosen one is marked by a class, which the script turns
    into aria-pressed, and the icon is drawn at its own size of 24 px."""
    pressed = " fa-pressed" if choice in (ex.rating, ex.reason) else ""
    icon = (
        f'<svg class="fa-thumb" role="presentation" width="24" height="24">'
        f'<path fill="currentColor" d="{_THUMBS[choice]}"></path></svg>'
        if choice in _THUMBS
        else ""
    )
    return (
        f'<button type="button" class="fa-rate fa-rate-{choice}{pressed}" value="{ex.key}:{choice}">'
        f"{icon}<span>{escape(label)}</span></button>"
    )


def feedback_html(ex: Exchange) -> str:
    """Thumbs up and down under an answer; after a rating the thanks (announced by the page's live region), and
    after "down" the optional reasons from the fixed list. No free text: nothing a visitor types about themselves."""
    lang = ex.language
    thumbs = _rate_button(ex, "up", text("rate_up", lang)) + _rate_button(ex, "down", text("rate_down", lang))
    parts = [f'<p class="fa-rate-q">{escape(text("rate_prompt", lang))}</p><div class="fa-thumbs">{thumbs}</div>']
    if ex.rating:
        parts.append(f'<p class="fa-thanks">{escape(text("thanks", lang))}</p>')
    if ex.rating == "down":
        reasons = "".join(_rate_button(ex, r, text(f"reason_{r}", lang)) for r in FEEDBACK_REASONS)
        prompt = escape(text("reason_prompt", lang))
        parts.append(f'<p class="fa-rate-q">{prompt}</p><div class="fa-reasons">{reasons}</div>')
    return f'<div class="fa-feedback">{"".join(parts)}</div>'
