"""Soak test of one server: `python -m evals.bench_soak [--visitors 50] [--minutes 10] [--backend llamacpp|fake|none]`.

Starts `assistant serve` on a free loopback port (rate limit off), or drives `--url`, with N visitors asking for a
duration: half of them over SSE on /api/chat, the other half through the screens' gradio queue (kiosk and widget in
turn, each visitor one conversation), each visitor one question after another with a pause to read the answer, and
never more than `--max-requests` questions. Reports errors (target 0), answers per minute, time to first token
p50/p95 and the server's RSS, for the whole run and for every minute; memory should stay flat (judged as in
bench_load: the growth over the second half). Writes evals/reports/bench_soak.json and a plot of memory and latency
over time (.png). Exit 1 on any error or memory that is not flat.

With the local model, the visitors mostly wait in the one generation slot's queue: the run measures that the server
stays whole and its memory flat over time, not its speed (evals/bench_load.py and bench_answers.py do).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from contextlib import suppress
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx

from assistant.evaluation.dataset import Item, load_dataset
from assistant.settings import Settings

from .bench_load import RSS_TOLERANCE_MB, assign_questions, memory_summary, server, summarize, wait_ready
from .common import DATASET, REPORTS, run_meta, save_figure
from .load_client import Load, Result, Screen, ask, ask_screen, rss_mb

SCREENS = ("kiosk", "widget")


@dataclass
class Soak:
    """What a visitor needs: the server, where to ask, and when to stop."""

    url: str
    screens: dict[str, Screen]
    deadline: float  # perf_counter() after which no visitor starts a question
    max_requests: int
    think_s: float
    timeout_s: float
    t0: float = field(default_factory=time.perf_counter)


def surface_of(visitor: int, screen_share: float, visitors: int) -> str:
    """The first ``screen_share`` of the visitors use the screens (kiosk and widget in turn), the rest the API."""
    on_screens = round(visitors * screen_share)
    return SCREENS[visitor % len(SCREENS)] if visitor < on_screens else "api"


async def visitor(
    soak: Soak, number: int, surface: str, items: Sequence[Item], client: httpx.AsyncClient, results: list[Result]
) -> None:
    """One visitor: questions one after another until the deadline or ``max_requests``; on a screen all in one
    conversation (one gradio session), as at a kiosk."""
    session = uuid.uuid4().hex[:11]
    for n, item in zip(range(soak.max_requests), itertools.cycle(items), strict=False):
        if time.perf_counter() >= soak.deadline:
            return
        result = Result(number, item.id, item.language, time.perf_counter() - soak.t0, surface=surface)
        if surface == "api":
            await ask(client, soak.url, item, result, soak.timeout_s)
        else:
            await ask_screen(client, soak.screens[surface], session, item, result, soak.timeout_s)
        results.append(result)
        if result.error:
            print(f"  visitor {number} ({surface}) question {n + 1}: {result.error}", flush=True)
        await asyncio.sleep(soak.think_s)


async def drive_soak(
    soak: Soak, plan: list[list[Item]], screen_share: float, pid: int | None, minute_s: float = 60
) -> Load:
    """All visitors at once; the server's RSS sampled every second, and a line printed every ``minute_s``."""
    load = Load([], 0.0, [], [])

    def sample() -> None:
        if pid is not None and (mb := rss_mb(pid)) is not None:
            load.rss.append((time.perf_counter() - soak.t0, mb))

    async def sampler() -> None:
        ticks = 0
        while True:
            await asyncio.sleep(1)
            sample()
            ticks += 1
            if ticks % round(minute_s) == 0:
                print(f"  {_minute_line(ticks / 60, load.results, load.rss)}", flush=True)

    sample()
    limits = httpx.Limits(max_connections=2 * len(plan) + 4, max_keepalive_connections=2 * len(plan) + 4)
    async with httpx.AsyncClient(timeout=httpx.Timeout(None, connect=10), limits=limits) as client:
        for name in {surface_of(v, screen_share, len(plan)) for v in range(len(plan))} - {"api"}:
            soak.screens[name] = await Screen.find(client, soak.url, name)
        watch = asyncio.create_task(sampler())
        await asyncio.gather(
            *(
                visitor(soak, v, surface_of(v, screen_share, len(plan)), items, client, load.results)
                for v, items in enumerate(plan)
            )
        )
        load.wall_s = time.perf_counter() - soak.t0
        watch.cancel()
        with suppress(asyncio.CancelledError):
            await watch
    sample()
    return load


def _minute_line(minute: float, results: Sequence[Result], rss: Sequence[tuple[float, float]]) -> str:
    done = [r for r in results if r.error is None]
    memory = f", server RSS {rss[-1][1]:.0f} MB" if rss else ""
    return f"minute {minute:.0f}: {len(done)} answered, {len(results) - len(done)} errors{memory}"


def per_minute(load: Load, minute_s: float = 60) -> list[dict[str, Any]]:
    """The figures of each minute, by the minute a question was started in; RSS the last sample in the minute."""
    minutes = int(max([r.started_s for r in load.results] + [t for t, _ in load.rss] + [0]) // minute_s) + 1
    rows = []
    for m in range(minutes):
        inside = [r for r in load.results if m * minute_s <= r.started_s < (m + 1) * minute_s]
        figures = summarize(Load(inside, minute_s, [], []))
        samples = [mb for t, mb in load.rss if t < (m + 1) * minute_s]
        rows.append(
            {
                "minute": m + 1,
                "questions": figures["requests"],
                "answers": figures["completed"],
                "errors": figures["errors"],
                "ttft_p50_ms": figures["ttft_p50_ms"],
                "ttft_p95_ms": figures["ttft_p95_ms"],
                "rss_mb": round(samples[-1], 1) if samples else None,
            }
        )
    return rows


def run(args: argparse.Namespace, url: str, pid: int | None) -> dict[str, Any]:
    items = load_dataset(DATASET)
    plan = assign_questions(items, args.visitors, args.max_requests)
    soak = Soak(url, {}, 0.0, args.max_requests, args.think, args.timeout)
    soak.deadline = soak.t0 + args.minutes * 60
    on_screens = round(args.visitors * args.screen_share)
    print(
        f"{args.visitors} visitors ({args.visitors - on_screens} over SSE, {on_screens} on the screens) for "
        f"{args.minutes:g} min, at most {args.max_requests} questions each, {args.think:g} s between them",
        flush=True,
    )
    load = asyncio.run(drive_soak(soak, plan, args.screen_share, pid))
    figures = summarize(load)
    figures["by_surface"] = {
        s: summarize(Load([r for r in load.results if r.surface == s], load.wall_s, [], []))
        for s in sorted({r.surface for r in load.results})
    }
    return {
        "visitors": args.visitors,
        "minutes": args.minutes,
        "max_requests": args.max_requests,
        "think_s": args.think,
        "screen_share": args.screen_share,
        "figures": figures,
        "per_minute": per_minute(load),
        "memory": memory_summary(load.rss, args.rss_tolerance_mb),
        "rss_samples": [[round(t, 1), round(m, 1)] for t, m in load.rss],
        "rows": [asdict(r) for r in load.results],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--visitors", type=int, default=50, help="Concurrent visitors.")
    parser.add_argument("--minutes", type=float, default=10, help="How long visitors start new questions.")
    parser.add_argument("--backend", default="llamacpp", help="llm_backend of the server started (not with --url).")
    parser.add_argument("--max-requests", type=int, default=200, help="Questions per visitor at most.")
    parser.add_argument("--think", type=float, default=2.0, help="Seconds a visitor reads before the next question.")
    parser.add_argument("--screen-share", type=float, default=0.5, help="Share of visitors on the screens' queue.")
    parser.add_argument("--url", help="Drive a running server instead (its rate limit must allow the load).")
    parser.add_argument("--server-pid", type=int, help="With --url: the server's process id, to sample its RSS.")
    parser.add_argument("--timeout", type=float, default=1800, help="Seconds a whole answer may take, queue included.")
    parser.add_argument("--ready-timeout", type=float, default=900)
    parser.add_argument("--rss-tolerance-mb", type=float, default=RSS_TOLERANCE_MB)
    parser.add_argument("--report", type=Path, default=REPORTS / "bench_soak.json")
    args = parser.parse_args(argv)

    if args.url:
        url = args.url.rstrip("/")
        wait_ready(url, None, args.ready_timeout, None)
        result = run(args, url, args.server_pid)
    else:
        with tempfile.TemporaryDirectory(prefix="bench-soak-") as tmp:
            print(f"starting `assistant serve` with llm_backend={args.backend}", flush=True)
            with server(args.backend, Path(tmp)) as (url, proc):
                wait_ready(url, proc, args.ready_timeout, Path(tmp) / f"serve-{args.backend}.log")
                result = run(args, url, proc.pid)

    meta = run_meta(Settings(), cpus=os.cpu_count(), url=args.url, backend=args.backend if not args.url else None)
    args.report.parent.mkdir(parents=True, exist_ok=True)
    args.report.write_text(json.dumps({"meta": meta, "soak": result}, indent=2))
    _plot(result, args.report.with_suffix(".png"))
    print(_table(result))
    print(f"report: {args.report} (+ .png)")
    failed = result["figures"]["errors"] or not result["memory"].get("flat", True)
    if failed:
        print(f"FAILED: {result['figures']['error_kinds'] or 'memory not flat'}", file=sys.stderr)
    return 1 if failed else 0


def _table(result: dict[str, Any]) -> str:
    def secs(ms: float | None) -> str:
        return f"{ms / 1000:.1f}" if ms is not None else "-"

    f, m = result["figures"], result["memory"]
    lines = [f"\n{'minute':>6}{'questions':>10}{'answers':>9}{'errors':>7}{'TTFT p50 s':>12}{'p95 s':>8}{'RSS MB':>9}"]
    for row in result["per_minute"]:
        rss = f"{row['rss_mb']:.0f}" if row["rss_mb"] is not None else "-"
        lines.append(
            f"{row['minute']:>6}{row['questions']:>10}{row['answers']:>9}{row['errors']:>7}"
            f"{secs(row['ttft_p50_ms']):>12}{secs(row['ttft_p95_ms']):>8}{rss:>9}"
        )
    lines.append(
        f"in all: {f['completed']} answers, {f['errors']} errors, {f['answers_per_min']} answers/min, first token "
        f"p50 {secs(f['ttft_p50_ms'])} s / p95 {secs(f['ttft_p95_ms'])} s"
    )
    if m.get("sampled"):
        verdict = "flat" if m["flat"] else "NOT FLAT"
        lines.append(
            f"memory: {verdict} — RSS {m['start_mb']} → peak {m['peak_mb']} → {m['end_mb']} MB, "
            f"{m['second_half_growth_mb']:+.0f} MB in the second half (≤ {m['tolerance_mb']:g})"
        )
    return "\n".join(lines)


def _plot(result: dict[str, Any], path: Path) -> None:
    """Memory over time above, each answer's time to first token at the moment it was asked below (per surface),
    with the per-minute p50 and p95."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (rss, ttft) = plt.subplots(2, 1, figsize=(10, 6.5), sharex=True)
    if samples := result["rss_samples"]:
        rss.plot([t / 60 for t, _ in samples], [m for _, m in samples], color="tab:blue")
    rss.set_ylabel("server RSS (MB)")
    rss.set_title(f"{result['visitors']} visitors for {result['minutes']:g} min: server memory, every second")
    for surface in sorted({row["surface"] for row in result["rows"]}):
        rows = [r for r in result["rows"] if r["surface"] == surface and r["error"] is None and r["first_token_ms"]]
        ttft.scatter(
            [r["started_s"] / 60 for r in rows], [r["first_token_ms"] / 1000 for r in rows], s=6, label=surface
        )
    minutes = [row for row in result["per_minute"] if row["ttft_p50_ms"] is not None]
    for key, style in (("ttft_p50_ms", "-"), ("ttft_p95_ms", "--")):
        ttft.plot(
            [row["minute"] - 0.5 for row in minutes],
            [row[key] / 1000 for row in minutes],
            style,
            marker="o",
            color="black",
            label=key[5:8] + " per minute",
        )
    ttft.set_xlabel("minutes since the soak started (the moment a question was asked)")
    ttft.set_ylabel("time to first token (s)")
    ttft.legend(fontsize=8)
    save_figure(fig, path)


if __name__ == "__main__":
    raise SystemExit(main())
