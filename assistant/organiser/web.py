"""The organiser page, ``/organiser/``: the report of a period in the browser, behind a token.

Off (no route: 404) unless ``organiser_token`` is set. The token is typed once into a small form; the browser then
keeps an HttpOnly, SameSite=Strict cookie for ``/organiser`` that holds an expiry and an HMAC of it keyed with the
token, never the token itself. So the cookie works on each of several servers that share the token, survives a
restart, and dies when the token changes. Wrong tokens are rate-limited per client and never logged (the access log
names the path only). The page is the report of ``assistant report`` (``Report.html``), with links to the download
routes instead of data: links, and no script: plain forms and links pass the app's CSP as they are.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import math
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from html import escape
from urllib.parse import parse_qs, urlencode

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ..app import Assistant
from ..record import RecordStore, database_url
from ..web_security import RateLimiter
from .page import STYLE, Links, Stub
from .report import Report, build_report
from .tables import Table

logger = logging.getLogger("assistant.organiser")

PATH = "/organiser"
COOKIE = "fa_organiser"
SESSION_S = 12 * 3600  # one fair day: signed in in the morning, still in at the evening debrief
ATTEMPTS_PER_MINUTE = 5  # sign-in attempts per client address: enough for typos, far too few for guessing
CACHE_S = 60.0  # the page and its downloads of one period share one reading of the record
SAFE_NAME = re.compile(r"^[\w.-]+$", re.ASCII)  # a file name fit for Content-Disposition as it is
NO_STORE = {"Cache-Control": "no-store"}  # what visitors asked stays out of shared caches and the back button

WRONG_TOKEN = "That is not the organiser token. Please check it and try again."
TOO_MANY = "Too many wrong tokens from this address. Please wait {seconds} seconds, then try again."
SIGN_IN_FIRST = "Sign in on the organiser page (/organiser/) first."
UNREADABLE = "The record cannot be read just now; the server log says why. Please try again later."


class Sessions:
    """Checks the token and issues and checks the cookie values (``<expiry>.<hmac>``)."""

    def __init__(self, token: str, clock: Callable[[], float] = time.time) -> None:
        self._key = token.encode("utf-8")
        self._clock = clock

    def matches(self, given: str) -> bool:
        """Constant time, and the same time for any length: the digests are compared, not the texts."""
        digest = hashlib.sha256(given.encode("utf-8")).digest()
        return hmac.compare_digest(digest, hashlib.sha256(self._key).digest())

    def issue(self) -> str:
        expires = int(self._clock()) + SESSION_S
        return f"{expires}.{self._mac(expires)}"

    def valid(self, value: str | None) -> bool:
        expires, _, mac = (value or "").partition(".")
        if not expires.isdigit() or int(expires) < self._clock():
            return False
        return hmac.compare_digest(mac.encode("ascii", "replace"), self._mac(int(expires)).encode("ascii"))

    def _mac(self, expires: int) -> str:
        return hmac.new(self._key, f"organiser-session:{expires}".encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Period:
    """Days in UTC, both included (the report's ``until`` is the day after ``last``)."""

    first: date
    last: date

    def query(self) -> str:
        return urlencode({"since": self.first.isoformat(), "until": self.last.isoformat()})


def parse_period(since: str | None, until: str | None, retention_days: int, today: date | None = None) -> Period:
    """The period asked for; by default the retention window (nothing older is kept). ValueError says what is
    wrong in a sentence an organiser can act on."""
    today = today or datetime.now(UTC).date()
    last = _day(until, "To") if until else today
    first = _day(since, "From") if since else last - timedelta(days=retention_days)
    if last < first:
        raise ValueError("The period ends before it begins: choose a 'To' day on or after the 'From' day.")
    return Period(first, last)


def _day(value: str, name: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"'{name}' is not a day as YYYY-MM-DD.") from None


class ReportSource:
    """Builds the report of a period from the record, reusing it for ``CACHE_S`` seconds: the page and the
    downloads that follow it read the record once. Grouping embeds the questions, so it runs on the model thread."""

    def __init__(self, assistant: Assistant, clock: Callable[[], float] = time.monotonic) -> None:
        self.assistant = assistant
        self.clock = clock
        self._own_store: RecordStore | None = None
        self._cached: tuple[Period, float, Report] | None = None
        self._lock = threading.Lock()

    def report(self, period: Period) -> Report:
        with self._lock:
            cached = self._cached
            if cached and cached[0] == period and self.clock() - cached[1] < CACHE_S:
                return cached[2]
            report = self.assistant.on_model_thread(lambda: self._build(period))
            self._cached = (period, self.clock(), report)
            return report

    def _build(self, period: Period) -> Report:
        until = period.last + timedelta(days=1)
        return build_report(self._store(), self.assistant.embedder, self.assistant.event, period.first, until)

    def _store(self) -> RecordStore:
        """The recorder's store; with recording switched off, the record that is left (as `assistant report`)."""
        if self.assistant.recorder is not None:
            return self.assistant.recorder.store()
        if self._own_store is None:
            self._own_store = RecordStore.open(database_url(self.assistant.settings))
        return self._own_store


def served_links(period: Period) -> Links:
    """Links to the download routes, for the same period as the page."""
    query = escape(period.query())

    def table(t: Table) -> str:
        name = f"{t.key}.csv"
        return f'<a download="{escape(name)}" href="{PATH}/table/{escape(name)}?{query}">{escape(t.title)} (CSV)</a>'

    def stub(s: Stub) -> str:
        name = escape(s.name)
        return f'<a download="{name}" href="{PATH}/stub/{name}?{query}">Markdown stub {name}</a>'

    return Links(table=table, stub=stub)


def controls_html(period: Period) -> str:
    """The period form (a GET: the address can be bookmarked) and the sign-out button."""
    return (
        f'<div class="bar"><form class="controls" method="get" action="{PATH}/">'
        f'<label for="since">From</label><input type="date" id="since" name="since" value="{period.first}" required>'
        f'<label for="until">To</label><input type="date" id="until" name="until" value="{period.last}" required>'
        '<button type="submit">Show this period</button></form>'
        f'<form class="controls" method="post" action="{PATH}/logout"><button type="submit">Sign out</button></form>'
        "</div>"
    )


def sign_in_html(message: str = "") -> str:
    """The one form that asks for the token. ``message`` is ours (wrong token, too many), never a stranger's."""
    alert = f'<p class="error" role="alert">{escape(message, quote=False)}</p>' if message else ""
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>Organiser page: sign in</title><style>{STYLE}</style></head><body><main>"
        "<h1>Organiser page</h1><p>What visitors asked, what the materials could not answer, and how the answers "
        "were rated. Enter the organiser token once: this browser stays signed in for 12 hours.</p>"
        f'{alert}<form class="controls" method="post" action="{PATH}/login">'
        '<label for="token">Organiser token</label>'
        '<input type="password" id="token" name="token" autocomplete="current-password" required>'
        '<button type="submit">Sign in</button></form></main></body></html>'
    )


def message_html(title: str, message: str) -> str:
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>'
        f'<style>{STYLE}</style></head><body><main><h1>{escape(title)}</h1><p class="error" role="alert">'
        f'{escape(message, quote=False)}</p><p><a href="{PATH}/">Back to the organiser page</a></p>'
        "</main></body></html>"
    )


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def add_organiser_routes(app: FastAPI, assistant: Assistant) -> None:
    """Add /organiser/ and its downloads when ``organiser_token`` is set; without it nothing is added (404)."""
    secret = assistant.settings.organiser_token
    token = secret.get_secret_value() if secret else ""
    if not token:
        return
    sessions = Sessions(token)
    limiter = RateLimiter(ATTEMPTS_PER_MINUTE)
    source = ReportSource(assistant)
    retention = assistant.settings.record_retention_days

    def signed_in(request: Request) -> bool:
        return sessions.valid(request.cookies.get(COOKIE))

    def period_of(request: Request) -> Period:
        """The period of the query; a bad one is a 400 with the sentence that says why."""
        try:
            return parse_period(request.query_params.get("since"), request.query_params.get("until"), retention)
        except ValueError as exc:
            raise HTTPException(400, str(exc)) from None

    def report_of(period: Period) -> Report:
        try:
            return source.report(period)
        except Exception as exc:  # a dead database: the page says so, the log names the kind of failure only
            logger.warning("the organiser page cannot read the record (%s)", type(exc).__name__)
            raise HTTPException(503, UNREADABLE) from None

    @app.get(f"{PATH}/", include_in_schema=False)
    def page(request: Request) -> HTMLResponse:
        if not signed_in(request):
            return HTMLResponse(sign_in_html(), headers=NO_STORE)
        try:
            period = period_of(request)
            html = report_of(period).html(assistant.event, served_links(period), controls_html(period))
        except HTTPException as exc:
            return HTMLResponse(message_html("Organiser page", str(exc.detail)), exc.status_code, NO_STORE)
        return HTMLResponse(html, headers=NO_STORE)

    @app.post(f"{PATH}/login", include_in_schema=False)
    async def login(request: Request) -> Response:
        wait = limiter.take(_client(request))  # every attempt counts, checked before the token is
        if wait:
            seconds = max(1, math.ceil(wait))
            headers = {**NO_STORE, "Retry-After": str(seconds)}
            return HTMLResponse(sign_in_html(TOO_MANY.format(seconds=seconds)), 429, headers)
        given = parse_qs((await request.body()).decode("utf-8", "replace")).get("token", [""])[0]
        if not sessions.matches(given):
            return HTMLResponse(sign_in_html(WRONG_TOKEN), 401, NO_STORE)
        response = RedirectResponse(f"{PATH}/", status_code=303, headers=NO_STORE)
        response.set_cookie(
            COOKIE,
            sessions.issue(),
            max_age=SESSION_S,
            path=PATH,
            secure=request.url.scheme == "https",
            httponly=True,
            samesite="strict",
        )
        return response

    @app.post(f"{PATH}/logout", include_in_schema=False)
    def logout() -> Response:
        response = RedirectResponse(f"{PATH}/", status_code=303, headers=NO_STORE)
        response.delete_cookie(COOKIE, path=PATH, httponly=True, samesite="strict")
        return response

    @app.get(PATH + "/table/{key}.csv", include_in_schema=False)
    def table_csv(key: str, request: Request) -> Response:
        if not signed_in(request):
            raise HTTPException(401, SIGN_IN_FIRST)
        report = report_of(period_of(request))
        table = next((t for t in report.summary.tables() if t.key == key), None)
        if table is None:
            raise HTTPException(404, f"No table is called {key!r}.")
        return _download(table.csv(), f"{key}.csv", "text/csv; charset=utf-8")

    @app.get(PATH + "/stub/{name}", include_in_schema=False)
    def stub_md(name: str, request: Request) -> Response:
        if not signed_in(request):
            raise HTTPException(401, SIGN_IN_FIRST)
        report = report_of(period_of(request))
        stub = next((s for s in report.stubs if s.name == name and SAFE_NAME.match(s.name)), None)
        if stub is None:
            raise HTTPException(404, "No group of unanswered questions has this stub in the period.")
        return _download(stub.text, stub.name, "text/markdown; charset=utf-8")


def _download(text: str, name: str, media: str) -> Response:
    """A file to save, under its own name (the names are ours: table keys and stub names, no stranger's text)."""
    headers = {**NO_STORE, "Content-Disposition": f'attachment; filename="{name}"'}
    return Response(text, media_type=media, headers=headers)
