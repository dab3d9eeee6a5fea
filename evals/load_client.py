"""The load benchmark's clients: streamed questions over SSE or through a screen's gradio queue, timed at the client,
and the server's RSS meanwhile."""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from assistant.evaluation.dataset import Item


class SseParser:
    """Server-Sent Events, one line at a time (without its newline): ``feed`` returns (event, data) on a blank line."""

    def __init__(self) -> None:
        self._event = "message"
        self._data: list[str] = []

    def feed(self, line: str) -> tuple[str, Any] | None:
        if line == "":
            if not self._data:
                self._event = "message"
                return None
            event, data = self._event, "\n".join(self._data)
            self._event, self._data = "message", []
            return event, json.loads(data)
        if line.startswith(":"):
            return None
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "event":
            self._event = value
        elif name == "data":
            self._data.append(value)
        return None


@dataclass
class Result:
    """One request as a client saw it. ``first_token_ms``: the first token, replace or done event."""

    client: int
    item: str
    language: str
    started_s: float = 0.0  # since the load started
    status: int | None = None
    first_event_ms: float | None = None  # any event, `queued` included
    first_token_ms: float | None = None
    total_ms: float | None = None
    queued_position: int | None = None
    route: str | None = None
    server_total_ms: float | None = None
    error: str | None = None
    server: str | None = None  # the URL asked, when the load goes round-robin to several servers
    surface: str = "api"  # api (SSE on /api/chat), kiosk or widget (the screen's gradio queue)


def rss_mb(pid: int) -> float | None:
    """Resident set size from /proc (Linux); None when the process is gone or /proc is not there."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


@asynccontextmanager
async def _timed(result: Result, timeout_s: float) -> AsyncIterator[Callable[[], float]]:
    """One question's stopwatch (milliseconds since it was asked), its time limit, and what ends it early written
    into ``result.error``: a client that nothing raises out of (but cancellation)."""
    started = time.perf_counter()

    def ms() -> float:
        return (time.perf_counter() - started) * 1000

    try:
        async with asyncio.timeout(timeout_s):
            yield ms
    except TimeoutError:
        result.error = f"timeout: no whole answer after {timeout_s:g} s"
    except (httpx.HTTPError, ValueError) as exc:
        result.error = f"{type(exc).__name__}: {exc}"
    finally:
        result.total_ms = ms()


async def ask(
    client: httpx.AsyncClient,
    url: str,
    item: Item,
    result: Result,
    timeout_s: float,
    on_event: Callable[[], None] = lambda: None,
) -> Result:
    """One streamed question; every failure ends in ``result.error``, nothing raises (but cancellation)."""
    async with _timed(result, timeout_s) as ms:
        body = {"question": item.question, "history": []}
        headers = {"Accept": "text/event-stream"}
        async with client.stream("POST", f"{url}/api/chat", json=body, headers=headers) as response:
            result.status = response.status_code
            if response.status_code != 200:
                text = (await response.aread()).decode(errors="replace")
                result.error = f"HTTP {response.status_code}: {text[:200]}"
                return result
            parser = SseParser()
            async for line in response.aiter_lines():
                parsed = parser.feed(line)
                if parsed is None:
                    continue
                event, data = parsed
                on_event()
                result.first_event_ms = result.first_event_ms or ms()
                if event == "queued":
                    result.queued_position = data.get("position")
                elif event in ("token", "replace", "done"):
                    result.first_token_ms = result.first_token_ms or ms()
                if event == "done":
                    result.route = data.get("route")
                    result.server_total_ms = (data.get("timings") or {}).get("total_ms")
                elif event == "error":
                    result.error = f"error event: {data.get('error')}"
            if result.route is None and result.error is None:
                result.error = "no done event: the stream ended early"
    return result


# The status of the newest exchange of a rendered conversation (ui/render.py): <section class="fa-turn fa-done" …>
_TURN_STATUS = re.compile(r'fa-turn fa-(queued|thinking|streaming|done|error)\\?"')


@dataclass
class Screen:
    """How to ask on a mounted screen through its gradio queue, as its page does: the event of the send button."""

    url: str  # the screen's mount point, e.g. http://127.0.0.1:7860/kiosk
    fn_index: int
    trigger_id: int
    inputs: int  # the event's inputs: the conversation state (held by the server), then the question

    @classmethod
    async def find(cls, client: httpx.AsyncClient, url: str, name: str) -> Screen:
        """Read the screen's gradio config: the send button (``fa-<name>-send``) and the event it triggers."""
        config = (await client.get(f"{url}/{name}/config", timeout=30)).raise_for_status().json()
        send = next(c["id"] for c in config["components"] if c.get("props", {}).get("elem_id") == f"fa-{name}-send")
        event = next(d for d in config["dependencies"] if [send, "click"] in [list(t) for t in d["targets"]])
        return cls(f"{url}/{name}", int(event["id"]), send, len(event["inputs"]))


async def ask_screen(
    client: httpx.AsyncClient,
    screen: Screen,
    session: str,
    item: Item,
    result: Result,
    timeout_s: float,
    on_event: Callable[[], None] = lambda: None,
) -> Result:
    """One question through a screen's gradio queue in the visitor's ``session`` (its conversation): join, then read
    the session's events until this one completes. The first token is the first rendering with the answer streaming
    (or done); an error is a failed event, or an answer rendered as the screen's error message. Nothing raises."""
    async with _timed(result, timeout_s) as ms:
        body = {
            "data": [None] * (screen.inputs - 1) + [item.question],
            "event_data": None,
            "fn_index": screen.fn_index,
            "trigger_id": screen.trigger_id,
            "session_hash": session,
        }
        joined = await client.post(f"{screen.url}/gradio_api/queue/join", json=body)
        result.status = joined.status_code
        event_id = joined.json().get("event_id") if joined.status_code == 200 else None
        if event_id is None:
            result.error = f"HTTP {joined.status_code}: queue/join: {joined.text[:200]}"
            return result
        await _screen_events(client, screen, session, event_id, result, ms, on_event)
    return result


async def _screen_events(
    client: httpx.AsyncClient,
    screen: Screen,
    session: str,
    event_id: str,
    result: Result,
    ms: Callable[[], float],
    on_event: Callable[[], None],
) -> None:
    status = None
    params = {"session_hash": session}
    async with client.stream("GET", f"{screen.url}/gradio_api/queue/data", params=params) as response:
        if response.status_code != 200:
            result.error = f"HTTP {response.status_code}: queue/data: {(await response.aread())[:200]!r}"
            return
        parser = SseParser()
        async for line in response.aiter_lines():
            statuses = _TURN_STATUS.findall(line)
            parsed = parser.feed(line)
            if statuses:
                status = statuses[-1]  # the newest exchange is the last one rendered
                if status in ("streaming", "done"):
                    result.first_token_ms = result.first_token_ms or ms()
            if parsed is None or parsed[1].get("event_id") not in (event_id, None):
                continue
            message = parsed[1]
            on_event()
            result.first_event_ms = result.first_event_ms or ms()
            if message.get("msg") == "estimation" and message.get("rank"):
                result.queued_position = int(message["rank"]) + 1
            if message.get("msg") == "process_completed":
                if not message.get("success"):
                    result.error = f"error event: {str(message.get('output'))[:200]}"
                elif status != "done":
                    result.error = f"error event: the screen shows the answer as {status}"
                else:
                    result.route = "screen"
                return
    result.error = "no done event: the stream ended early"


@dataclass
class Load:
    """One run: the requests, its wall time, the server's RSS (s, MB) and /api/ready probes (s, ms; None: failed)."""

    results: list[Result]
    wall_s: float
    rss: list[tuple[float, float]]
    probes: list[tuple[float, float | None]]
    stalled: bool = False


async def drive(
    url: str | Sequence[str],
    plan: list[list[Item]],
    timeout_s: float,
    pid: int | Sequence[int] | None,
    label: str,
    stall_s: float = 300,
) -> Load:
    """All clients at once, each asking its questions one after the other.

    Meanwhile the server's RSS is sampled every second, and /api/ready is probed every two seconds: how long
    another screen of the same server waits for a trivial answer while the clients queue. When no client has
    seen any event for ``stall_s``, the server is stuck: the run stops and what is left counts as errors.

    Several URLs (replicas of one deployment, docs/deploy.md): each request, and each probe, goes to the next one
    in turn, as a round-robin load balancer would send them; the RSS is then the sum over the ``pid``s given.
    """
    urls = [url] if isinstance(url, str) else list(url)
    pids = [] if pid is None else [pid] if isinstance(pid, int) else list(pid)
    next_url, next_probe = itertools.cycle(urls), itertools.cycle(urls)
    load = Load([], 0.0, [], [])
    total = sum(len(qs) for qs in plan)
    t0 = last_event = time.perf_counter()

    def seen() -> None:
        nonlocal last_event
        last_event = time.perf_counter()

    def sample() -> None:
        sizes = [rss_mb(p) for p in pids]
        if sizes and None not in sizes:
            load.rss.append((time.perf_counter() - t0, sum(mb for mb in sizes if mb is not None)))

    sample()  # the "start" sample, before the first request

    async def one_client(c: int, items: list[Item], client: httpx.AsyncClient) -> None:
        for n, item in enumerate(items):
            target = next(next_url)
            r = Result(c, item.id, item.language, time.perf_counter() - t0, server=target if len(urls) > 1 else None)
            try:
                await ask(client, target, item, r, timeout_s, seen)
            except asyncio.CancelledError:
                r.error = f"stalled: no event from the server for {stall_s:g} s"
                left = [Result(c, i.id, i.language, error="not asked: the server stalled") for i in items[n + 1 :]]
                load.results.extend([r, *left])
                raise
            load.results.append(r)
            status = r.error or f"{r.route}, first token {(r.first_token_ms or 0) / 1000:.1f} s"
            done = f"{len(load.results)}/{total}"
            print(f"  [{label}] {done}  {(r.total_ms or 0) / 1000:6.1f} s  {r.item}: {status}", flush=True)

    async def sampler() -> None:
        ticks = 0
        while time.perf_counter() - last_event < stall_s:
            await asyncio.sleep(1)
            sample()
            ticks += 1
            if ticks % 15 == 0:
                rss = f", server RSS {load.rss[-1][1]:.0f} MB" if load.rss else ""
                print(f"  [{label}] {ticks} s: {len(load.results)}/{total} answered{rss}", flush=True)
        load.stalled = True
        print(f"  [{label}] STALLED: no event from the server for {stall_s:g} s; stopping the run", flush=True)

    async def prober(client: httpx.AsyncClient) -> None:
        while True:
            await asyncio.sleep(2)
            started = time.perf_counter()
            try:
                ok = (await client.get(f"{next(next_probe)}/api/ready", timeout=60)).status_code == 200
            except httpx.HTTPError:
                ok = False
            except asyncio.CancelledError:
                load.probes.append((started - t0, None))  # still unanswered when the run ended
                raise
            load.probes.append((started - t0, (time.perf_counter() - started) * 1000 if ok else None))

    limits = httpx.Limits(max_connections=len(plan) + 4, max_keepalive_connections=len(plan) + 4)
    async with httpx.AsyncClient(timeout=httpx.Timeout(None, connect=10), limits=limits) as client:
        clients = asyncio.gather(*(one_client(c, items, client) for c, items in enumerate(plan)))
        watch, probe = asyncio.create_task(sampler()), asyncio.create_task(prober(client))
        await asyncio.wait({clients, watch}, return_when=asyncio.FIRST_COMPLETED)
        load.wall_s = time.perf_counter() - t0
        for task in (clients, watch, probe):
            task.cancel()
            with suppress(asyncio.CancelledError):
                await task
    sample()  # the "end" sample, after the last answer
    return load
