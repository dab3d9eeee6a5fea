"""The HTTP edge around the routes: security headers, a body limit, an access log without personal data, the
per-client rate limiter (one for the API and both screens), and errors translated into ``{"error": ...}`` with a
fitting status — never a traceback. The middleware is plain ASGI, so the screens mounted into the same app are
covered too."""

from __future__ import annotations

import logging
import math
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .errors import AssistantError, ConfigError, QuestionRejected
from .printable import printable

logger = logging.getLogger("assistant.api")

INTERNAL_ERROR = "Something went wrong — please ask the booth staff."
TOO_LARGE = "Die Anfrage ist zu groß. / The request is too large."
RATE_LIMITED = (
    "Bitte einen Moment Geduld — zu viele Fragen in kurzer Zeit. / "
    "Please wait a moment — too many questions in a short time."
)
_ORIGIN = re.compile(r"^https?://(\*\.)?[a-z0-9-]+(\.[a-z0-9-]+)*(:\d{1,5})?$", re.I)


def content_security_policy(embed_origins: Sequence[str]) -> str:
    """As tight as gradio allows (it needs inline scripts and styles); framing only by us and the named hosts."""
    origins = [o.rstrip("/") for o in embed_origins]
    bad = [o for o in origins if not _ORIGIN.match(o)]
    if bad:
        raise ConfigError(
            f"allowed_embed_origins: {', '.join(bad)} — give origins like https://www.example.org "
            "(scheme and host, no path)."
        )
    return "; ".join(
        [
            "default-src 'self'",
            "img-src 'self' data:",
            "style-src 'self' 'unsafe-inline'",
            "script-src 'self' 'unsafe-inline'",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors " + " ".join(["'self'", *origins]),
        ]
    )


def security_headers(embed_origins: Sequence[str]) -> dict[str, str]:
    headers = {
        "Content-Security-Policy": content_security_policy(embed_origins),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
        "Cross-Origin-Opener-Policy": "same-origin",
    }
    if not embed_origins:  # older browsers ignore frame-ancestors
        headers["X-Frame-Options"] = "SAMEORIGIN"
    return headers


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp, headers: dict[str, str]) -> None:
        self.app = app
        self.headers = headers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(raw=list(message.get("headers", [])))
                for name, value in self.headers.items():
                    headers[name] = value
                message["headers"] = headers.raw
            await send(message)

        await self.app(scope, receive, send_with_headers)


class BodyLimitMiddleware:
    """No request body over ``max_bytes``: a declared length is refused at once, a chunked body while it comes.

    (FastAPI's own ``max_body_size`` answers a declared length with plain text, which would break the
    ``{"error": ...}`` shape.)
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            await JSONResponse({"error": TOO_LARGE}, status_code=413)(scope, receive, send)
            return
        received = 0

        async def counted_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise HTTPException(413, TOO_LARGE)  # FastAPI passes it on to the error handlers
            return message

        await self.app(scope, counted_receive, send)


class AccessLogMiddleware:
    """One line a request — method, path (escaped), status, latency; never the client address, query or body.

    Also the last net for unexpected errors: logged here, answered with a 500 that shows no traceback.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 0

        async def send_and_note(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        except Exception as exc:
            if status or isinstance(exc, HTTPException):  # too late to answer, or an outer layer's business
                raise
            logger.error("unexpected error in %s %s", scope["method"], printable(scope["path"], 200), exc_info=exc)
            status = 500
            await JSONResponse({"error": INTERNAL_ERROR}, status_code=500)(scope, receive, send)
        finally:
            ms = (time.perf_counter() - started) * 1000
            # The path is the client's: escaped, a %0A in it cannot forge a line of this log.
            logger.info("%s %s %s %.0f ms", scope["method"], printable(scope["path"], 200), status, ms)


class RateLimiter:
    """A token bucket per client: ``per_minute`` requests, refilled evenly; 0 switches it off.

    Memory stays bounded: a client idle for a minute has a full bucket again and is forgotten, and beyond
    ``max_clients`` the least recently seen are dropped.
    """

    # Not the `limits` library (5.8): it has fixed, moving and sliding windows but no token bucket, and with any of
    # them a visitor who asked per_minute questions in a burst waits 45-60 s for the next (Retry-After), where the
    # bucket gives one back every 60/per_minute s; it also reads time.time() only, so no injectable clock.

    def __init__(self, per_minute: int, max_clients: int = 10_000, clock: Callable[[], float] = time.monotonic) -> None:
        self.capacity = per_minute
        self.max_clients = max_clients
        self.clock = clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # key -> (tokens, last seen)
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._buckets)

    def take(self, key: str) -> float:
        """Take one token: 0.0 when allowed, else the seconds until the next token."""
        if self.capacity <= 0:
            return 0.0
        rate = self.capacity / 60.0
        now = self.clock()
        with self._lock:
            tokens, seen = self._buckets.pop(key, (float(self.capacity), now))
            tokens = min(float(self.capacity), tokens + (now - seen) * rate)
            wait = 0.0 if tokens >= 1 else (1 - tokens) / rate
            self._buckets[key] = (tokens - 1 if tokens >= 1 else tokens, now)
            self._forget_idle(now)
        return wait

    def _forget_idle(self, now: float) -> None:
        while self._buckets:
            _, (_, seen) = next(iter(self._buckets.items()))
            if now - seen < 60 and len(self._buckets) <= self.max_clients:
                break
            self._buckets.popitem(last=False)


def client_key(request: Any) -> str:
    """The rate limit's key for a request of the API or a screen: the client's address. uvicorn puts the address
    from X-Forwarded-For there only for a request from one of ``trusted_proxies`` (``proxy_options``)."""
    client = getattr(request, "client", None)
    return str(getattr(client, "host", None) or "unknown")


def proxy_options(trusted_proxies: Sequence[str]) -> dict[str, Any]:
    """uvicorn's options for X-Forwarded-For: read only from ``trusted_proxies``, not at all when there are none.
    uvicorn's default trusts it from loopback, where anyone with a proxy on the same host (or a proxy that passes
    the header on) makes up a new address for every request and never meets the rate limit."""
    return {"proxy_headers": bool(trusted_proxies), "forwarded_allow_ips": list(trusted_proxies)}


class RateLimited(Exception):
    """Raised by the chat route's limiter; answered with 429 and Retry-After."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(RATE_LIMITED)
        self.retry_after = retry_after


def add_error_handlers(app: FastAPI) -> None:
    """Every error the routes raise leaves as ``{"error": ...}``; validation errors also carry ``detail``."""

    async def assistant_error(request: Request, exc: Exception) -> JSONResponse:
        # A rejected question is the visitor's to fix; the rest (nothing indexed, store or models missing) is
        # the service being unavailable. Their messages name the next step.
        status = 422 if isinstance(exc, QuestionRejected) else 503
        if status == 503:
            logger.warning("%s in %s %s: %s", type(exc).__name__, request.method, printable(request.url.path, 200), exc)
        return JSONResponse({"error": str(exc)}, status_code=status)

    async def invalid_request(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        detail = [{"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]} for e in exc.errors()]
        first = detail[0] if detail else {"loc": [], "msg": "invalid request", "type": ""}
        where = ".".join(str(p) for p in first["loc"] if p != "body")
        message = (
            "The request body is not valid JSON."
            if first["type"] == "json_invalid"
            else f"Invalid request — {where}: {first['msg']}."
            if where
            else f"Invalid request — {first['msg']}."
        )
        return JSONResponse({"error": message, "detail": detail}, status_code=422)

    async def rate_limited(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RateLimited)
        headers = {"Retry-After": str(max(1, math.ceil(exc.retry_after)))}
        return JSONResponse({"error": RATE_LIMITED}, status_code=429, headers=headers)

    async def http_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, HTTPException)
        return JSONResponse({"error": exc.detail}, status_code=exc.status_code, headers=exc.headers)

    app.add_exception_handler(AssistantError, assistant_error)
    app.add_exception_handler(RequestValidationError, invalid_request)
    app.add_exception_handler(RateLimited, rate_limited)
    app.add_exception_handler(HTTPException, http_error)
