"""Mount the screens into the API's app: ``/kiosk``, ``/widget``, ``/widget/embed.js``, and ``/`` → ``/kiosk/``.

gradio's sub-apps serve more than a page needs (file and upload routes, a proxy, run history, monitoring,
its own API). Each is wrapped in ``GradioGuard``, which lets through only what the page itself uses; the
rest is a 404 before gradio sees it.
"""

from __future__ import annotations

import json
import re
from urllib.parse import parse_qs

from fastapi import FastAPI
from fastapi.responses import RedirectResponse, Response
from starlette.responses import JSONResponse
from starlette.routing import Mount
from starlette.types import ASGIApp, Receive, Scope, Send

from ..app import Assistant
from ..event import LANGUAGES, EventProfile
from ..settings import Settings
from .static import read_static

KIOSK_PATH = "/kiosk"
WIDGET_PATH = "/widget"

# What a gradio page requests, relative to its mount point: the page, its config and assets, the queue.
_ALLOWED = re.compile(
    r"^/?$|^/(config|theme\.css|favicon\.ico)/?$|^/(assets|static|svelte)/[\w./-]+$"
    r"|^/gradio_api/(queue/join|queue/data|heartbeat/[\w-]+|cancel)/?$"
)
_METHODS = {"GET", "HEAD", "POST"}
_QUEUE_DATA = re.compile(r"^/gradio_api/queue/data/?$")


class GradioGuard:
    """Lets a request into a mounted gradio app only when its path is one the page itself needs, and a request for
    a session's queue only when gradio knows that session."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path = scope["path"][len(scope.get("root_path", "")) :]
            refused = scope["method"] not in _METHODS or ".." in path or not _ALLOWED.match(path)
            if refused or (_QUEUE_DATA.match(path) and not self._known_session(scope)):
                await JSONResponse({"error": "Not found."}, status_code=404)(scope, receive, send)
                return
        await self.app(scope, receive, send)

    def _known_session(self, scope: Scope) -> bool:
        """gradio answers queue/data for an unknown session by raising after its event stream began: a 7.7 KB
        traceback in the log for each such request, which anyone can send. A session exists once the page joined
        the queue (queue/join comes first). Unknown to this gradio's internals: let gradio decide."""
        session = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("session_hash", [""])[0]
        queue = getattr(getattr(self.app, "blocks", None), "_queue", None)
        pending = getattr(queue, "pending_messages_per_session", None)
        return pending is None or session in pending


def mount_screens(app: FastAPI, assistant: Assistant, settings: Settings) -> FastAPI:
    """Build the kiosk and the widget from the given assistant and mount them (imports gradio: seconds)."""
    import gradio as gr

    from .kiosk import build_kiosk, kiosk_head
    from .widget import build_widget, widget_head

    @app.get("/", include_in_schema=False)
    def home() -> RedirectResponse:
        return RedirectResponse(f"{KIOSK_PATH}/?__theme=light")

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> Response:
        return Response(status_code=204)

    script = embed_script(assistant.event)

    @app.get(f"{WIDGET_PATH}/embed.js", include_in_schema=False)
    def embed_js() -> Response:  # before the /widget mount, which would otherwise take this path
        headers = {"Cache-Control": "public, max-age=300"}
        return Response(script, media_type="text/javascript; charset=utf-8", headers=headers)

    # gradio's bundled font (no web fonts) without its semi-bold file, which holds only a few dozen glyphs:
    # bold text would mix in glyphs of another font.
    theme = gr.themes.Default(
        font=[gr.themes.LocalFont("Source Sans Pro", weights=(400, 700)), "system-ui", "sans-serif"]
    )
    screens = [
        (KIOSK_PATH, build_kiosk(assistant, settings, app.state.limiter), "kiosk.css", kiosk_head(settings)),
        (WIDGET_PATH, build_widget(assistant, settings, app.state.limiter), "widget.css", widget_head()),
    ]
    for path, blocks, css, head in screens:
        blocks.queue(default_concurrency_limit=4, max_size=64)
        gr.mount_gradio_app(
            app,
            blocks,
            path,
            footer_links=[],
            run_history=False,
            allowed_paths=[],
            show_error=False,
            max_file_size=1,
            ssr_mode=False,
            mcp_server=False,
            enable_monitoring=False,
            pwa=False,
            theme=theme,
            css=read_static("screens.css") + read_static(css),
            head=head,
        )
        _guard(app, path)
    return app


_LABELS = re.compile(r"/\* fa:labels \*/.*?/\* /fa:labels \*/", re.S)


def embed_script(event: EventProfile) -> str:
    """``static/embed.js`` with the event's launcher labels in place of its neutral ones (as a JSON object, every
    character beyond ASCII escaped: nothing in a label can end the string or the script)."""
    labels = json.dumps({lang: event.text("embed_label", lang) for lang in LANGUAGES}, ensure_ascii=True)
    labels = labels.replace("<", "\\u003c")
    script, found = _LABELS.subn(lambda _: labels, read_static("embed.js"), count=1)
    if not found:
        raise AssertionError("static/embed.js lost its /* fa:labels */ marker")
    return script


def _guard(app: FastAPI, path: str) -> None:
    for route in app.router.routes:
        if isinstance(route, Mount) and route.path == path:
            route.app = GradioGuard(route.app)
            return
    raise AssertionError(f"gradio was not mounted at {path}")
