"""Load benchmark of the HTTP API: `python -m evals.bench_load [--clients 10 50] [--backend llamacpp none] [--avx2]`.

Starts `assistant serve` per backend on a free loopback port (rate limit off), or drives `--url` (repeatable, or
comma-separated: several replicas, each request to the next one in turn), with N concurrent
clients that each stream `--questions` golden-set questions (answerable, German and English) over SSE, one after
the other. Per configuration: answers per minute, time to first token and whole-answer time (p50/p95, measured
at the client, queueing included), errors, and the server's RSS sampled every second — it should stay flat.
Writes evals/reports/bench_load.json and a plot. `--avx2` runs the servers on the AVX2 path of a machine that has
more (torch, oneDNN, MKL and fbgemm limited to AVX2, float32 embeddings, the AVX2 llama.cpp build of `make
avx2-llama`) and writes bench_load-avx2.json.

The local model answers one question at a time, so 50 clients x 2 questions take about 100 answers' time (some
ten minutes here); two each rather than one, so that the memory judged over the second half of a run covers 50
answers, enough to tell a plateau from a slow leak.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Any

import httpx

from assistant.evaluation.dataset import Item, load_dataset
from assistant.evaluation.metrics import percentile
from assistant.settings import Settings

from .common import DATASET, REPORTS, ROOT, avx2_limited, llama_build, rerun_with_avx2_llama, run_meta, save_figure
from .load_client import Load, Result, ask, drive

QUESTIONS_PER_CLIENT = {"llamacpp": 2, "none": 20}  # other backends: 1
RSS_TOLERANCE_MB = 20.0  # "flat": the server's RSS grows by at most this over the second half of a run


# --- the figures ------------------------------------------------------------------------------------------------


def assign_questions(items: Sequence[Item], clients: int, per_client: int) -> list[list[Item]]:
    """Answerable questions, German and English alternating; client c asks a distinct slice, cycling the set."""
    answerable = [i for i in items if i.kind == "answerable" and not i.history]
    german = [i for i in answerable if i.language == "de"]
    english = [i for i in answerable if i.language == "en"]
    pool = [q for pair in zip(german, english, strict=False) for q in pair]
    if not pool:
        raise ValueError("no answerable German/English questions in the dataset")
    return [[pool[(c * per_client + j) % len(pool)] for j in range(per_client)] for c in range(clients)]


def _p(values: list[float], q: float) -> float | None:
    return round(percentile(values, q)) if values else None


def summarize(load: Load) -> dict[str, Any]:
    """The figures of one run; latencies of the answered requests only, failures counted as errors."""
    results, wall_s = load.results, load.wall_s
    ok = [r for r in results if r.error is None]
    probes = [ms for _, ms in load.probes if ms is not None]
    firsts = [r.first_token_ms for r in ok if r.first_token_ms is not None]
    totals = [r.total_ms for r in ok if r.total_ms is not None]
    queued = [r.queued_position for r in results if r.queued_position is not None]
    return {
        "requests": len(results),
        "completed": len(ok),
        "errors": len(results) - len(ok),
        "error_kinds": dict(Counter((r.error or "").split(":")[0] for r in results if r.error)),
        "stalled": load.stalled,
        "wall_s": round(wall_s, 1),
        "answers_per_min": round(len(ok) / wall_s * 60, 1) if wall_s > 0 else None,
        "ttft_p50_ms": _p(firsts, 50),
        "ttft_p95_ms": _p(firsts, 95),
        "total_p50_ms": _p(totals, 50),
        "total_p95_ms": _p(totals, 95),
        "first_event_p50_ms": _p([r.first_event_ms for r in ok if r.first_event_ms is not None], 50),
        "queued": len(queued),
        "max_queue_position": max(queued, default=0),
        "routes": dict(Counter(r.route for r in ok if r.route)),
        "servers": dict(Counter(r.server for r in ok if r.server)),
        "ready_probes": len(load.probes),
        "ready_probe_failures": len(load.probes) - len(probes),
        "ready_probe_p50_ms": _p(probes, 50),
        "ready_probe_max_ms": round(max(probes)) if probes else None,
    }


def memory_summary(samples: Sequence[tuple[float, float]], tolerance_mb: float) -> dict[str, Any]:
    """RSS (MB) before, at its peak and after the run, and how much it still grew over the run's second half.

    The first seconds of concurrent requests allocate once (request threads, their buffers): tens of MB that then
    stay. A leak keeps growing, so "flat" is judged on the second half: at most ``tolerance_mb`` more at the end
    than in the middle of the run.
    """
    if not samples:
        return {"sampled": False}
    start, end = samples[0][1], samples[-1][1]
    middle = min(samples, key=lambda s: abs(s[0] - samples[-1][0] / 2))[1]
    late = end - middle
    return {
        "sampled": True,
        "samples": len(samples),
        "start_mb": round(start),
        "peak_mb": round(max(m for _, m in samples)),
        "end_mb": round(end),
        "growth_mb": round(end - start, 1),
        "second_half_growth_mb": round(late, 1),
        "tolerance_mb": tolerance_mb,
        "flat": late <= tolerance_mb,
    }


# --- the server -------------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def server(backend: str, log_dir: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """`assistant serve` for one backend, its rate limit off, its output in a log file; stopped on exit."""
    port = free_port()
    env = {**os.environ, "ASSISTANT_LLM_BACKEND": backend, "ASSISTANT_RATE_LIMIT_PER_MINUTE": "0"}
    log = log_dir / f"serve-{backend}.log"
    with log.open("wb") as out:
        cmd = [sys.executable, "-m", "assistant.cli", "serve", "--host", "127.0.0.1", "--port", str(port)]
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            yield f"http://127.0.0.1:{port}", proc
        finally:
            proc.terminate()
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def server_urls(given: Sequence[str]) -> list[str]:
    """The --url values: each may list several, comma-separated; trailing slashes dropped."""
    return [url.strip().rstrip("/") for value in given for url in value.split(",") if url.strip()]


def wait_ready(url: str, proc: subprocess.Popen[bytes] | None, timeout_s: float, log: Path | None) -> dict[str, Any]:
    """Poll /api/ready; print what the server is doing every 10 s. Fails when the server exits or takes too long."""
    started = time.monotonic()
    said, last_print = "", 0.0
    while True:
        elapsed = time.monotonic() - started
        if proc is not None and proc.poll() is not None:
            tail = log.read_text(errors="replace")[-2000:] if log else ""
            raise SystemExit(f"the server exited with {proc.returncode} before it was ready:\n{tail}")
        try:
            response = httpx.get(f"{url}/api/ready", timeout=5)
            if response.status_code == 200:
                print(f"  ready after {elapsed:.0f} s: {response.json()}", flush=True)
                return dict(response.json())
            detail = response.json().get("detail", response.text)
        except (httpx.HTTPError, ValueError):
            detail = "not listening yet"
        if detail != said or elapsed - last_print >= 10:
            print(f"  waiting for {url}/api/ready ({elapsed:.0f} s): {detail}", flush=True)
            said, last_print = detail, elapsed
        if elapsed > timeout_s:
            raise SystemExit(f"{url} not ready after {timeout_s:g} s")
        time.sleep(1)


# --- the run ----------------------------------------------------------------------------------------------------


def run_config(
    args: argparse.Namespace, urls: list[str], pids: list[int], backend: str, clients: int
) -> dict[str, Any]:
    per_client = args.questions or QUESTIONS_PER_CLIENT.get(backend, 1)
    plan = assign_questions(load_dataset(DATASET), clients, per_client)
    label = f"{backend} x{clients}"
    print(f"{label}: {clients} clients x {per_client} question(s), load average {os.getloadavg()[0]:.1f}", flush=True)
    load_before = os.getloadavg()
    load = asyncio.run(drive(urls, plan, args.timeout, pids, label, args.stall_timeout))
    figures = summarize(load)
    memory = memory_summary(load.rss, args.rss_tolerance_mb)
    for key, value in {**figures, **{f"rss_{k}": v for k, v in memory.items()}}.items():
        print(f"  {key:<28}{value}")
    if memory.get("sampled"):
        verdict = "flat" if memory["flat"] else "NOT FLAT"
        growth, late = memory["growth_mb"], memory["second_half_growth_mb"]
        tolerance = args.rss_tolerance_mb
        print(f"  memory: {verdict} ({growth:+.0f} MB in all, {late:+.0f} MB in the second half, ≤ {tolerance:g})")
    if figures["errors"]:
        print(f"  ERRORS: {figures['error_kinds']}", file=sys.stderr)
    return {
        "backend": backend,
        "clients": clients,
        "questions_per_client": per_client,
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "figures": figures,
        "memory": memory,
        "rss_samples": [[round(t, 1), round(m, 1)] for t, m in load.rss],
        "ready_probes_ms": [[round(t, 1), ms if ms is None else round(ms, 1)] for t, ms in load.probes],
        "rows": [asdict(r) for r in load.results],
    }


def bench_server(args: argparse.Namespace, urls: list[str], pids: list[int], backend: str) -> list[dict[str, Any]]:
    # One question first to each server, not measured: the first request pays for lazy loading in the server.
    for url in urls:
        warm = Result(-1, "warm-up", "en")
        asyncio.run(_warm_up(url, args.timeout, warm))
        took = f"{(warm.total_ms or 0) / 1000:.1f} s"
        print(f"  warm-up question to {url}: {warm.error or warm.route} in {took}", flush=True)
    runs = []
    for n in args.clients:
        runs.append(run_config(args, urls, pids, backend, n))
        if runs[-1]["figures"]["stalled"]:
            print(f"  the {backend} server is stuck: its other configurations are skipped", file=sys.stderr)
            break
    return runs


async def _warm_up(url: str, timeout_s: float, result: Result) -> None:
    item = Item("warm-up", "Who organised the Dortmund delegation to IMTS 2024?", "en", "answerable")
    async with httpx.AsyncClient(timeout=httpx.Timeout(None, connect=10)) as client:
        await ask(client, url, item, result, timeout_s)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, nargs="+", default=[10, 50], help="Concurrent clients per run.")
    parser.add_argument("--backend", nargs="+", default=["llamacpp", "none"], help="llm_backend of each server.")
    parser.add_argument("--questions", type=int, help="Questions per client (default: 2 with llamacpp, 20 with none).")
    parser.add_argument(
        "--url",
        action="append",
        help="Drive a running server instead (its rate limit must allow the load); repeatable or comma-separated "
        "for replicas behind one address: requests go to each in turn.",
    )
    parser.add_argument(
        "--server-pid",
        type=int,
        action="append",
        help="With --url: a server's process id, to sample its RSS (repeatable: the sum over the replicas).",
    )
    parser.add_argument("--timeout", type=float, default=1800, help="Seconds a whole answer may take, queue included.")
    parser.add_argument(
        "--stall-timeout", type=float, default=300, help="Stop a run when no client saw any event for this long."
    )
    parser.add_argument("--ready-timeout", type=float, default=900)
    parser.add_argument("--rss-tolerance-mb", type=float, default=RSS_TOLERANCE_MB)
    parser.add_argument("--report", type=Path, default=None, help="default: evals/reports/bench_load[-avx2].json")
    parser.add_argument("--avx2", action="store_true", help="serve on the AVX2 path (see above)")
    parser.add_argument("--llama-path", type=Path, default=ROOT / ".avx2-llama", help="an AVX2 llama-cpp-python")
    args = parser.parse_args(argv)
    if args.avx2 and not avx2_limited():
        return rerun_with_avx2_llama("evals.bench_load", argv, args.llama_path)
    args.report = args.report or REPORTS / ("bench_load-avx2.json" if args.avx2 else "bench_load.json")

    runs: list[dict[str, Any]] = []
    urls = server_urls(args.url or [])
    if urls:
        readies = [wait_ready(url, None, args.ready_timeout, None) for url in urls]
        backend = "none" if readies[0].get("model") == "none" else str(readies[0].get("model", "server"))
        runs += bench_server(args, urls, args.server_pid or [], backend)
    else:
        with tempfile.TemporaryDirectory(prefix="bench-load-") as tmp:
            for backend in args.backend:
                print(f"starting `assistant serve` with llm_backend={backend}", flush=True)
                with server(backend, Path(tmp)) as (url, proc):
                    wait_ready(url, proc, args.ready_timeout, Path(tmp) / f"serve-{backend}.log")
                    runs += bench_server(args, [url], [proc.pid], backend)

    settings = Settings()
    note = "client and server(s) share the machine"
    llama = None if urls else llama_build()  # the servers started here load the same library as this process
    meta = run_meta(settings, cpus=os.cpu_count(), url=", ".join(urls) or None, note=note, llama=llama)
    args.report.parent.mkdir(parents=True, exist_ok=True)
    args.report.write_text(json.dumps({"meta": meta, "runs": runs}, indent=2))
    _plot(runs, args.report.with_suffix(".png"))
    print(_table(runs))
    print(f"report: {args.report} (+ .png)")
    failed = any(r["figures"]["errors"] or not r["memory"].get("flat", True) for r in runs)
    return 1 if failed else 0


def _table(runs: list[dict[str, Any]]) -> str:
    def secs(f: dict[str, Any], key: str) -> str:
        return f"{f[key + '_p50_ms'] / 1000:.1f} / {f[key + '_p95_ms'] / 1000:.1f}" if f[key + "_p50_ms"] else "-"

    lines = [
        f"\n{'configuration':<15}{'done':>6}{'errors':>7}{'ans/min':>9}{'TTFT p50/p95 s':>18}"
        f"{'total p50/p95 s':>18}{'RSS start/peak/end MB':>24}  memory"
    ]
    for run in runs:
        f, m = run["figures"], run["memory"]
        rss = f"{m['start_mb']}/{m['peak_mb']}/{m['end_mb']}" if m["sampled"] else "-"
        flat = "not sampled"
        if m["sampled"]:
            flat = f"{'flat' if m['flat'] else 'NOT FLAT'} ({m['second_half_growth_mb']:+.0f} MB in the 2nd half)"
        name = f"{run['backend']} x{run['clients']}" + (" STALLED" if f["stalled"] else "")
        lines.append(
            f"{name:<15}{f['completed']:>6}{f['errors']:>7}{f['answers_per_min']:>9}{secs(f, 'ttft'):>18}"
            f"{secs(f, 'total'):>18}{rss:>24}  {flat}"
        )
    return "\n".join(lines)


def _plot(runs: list[dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FormatStrFormatter, LogLocator, NullFormatter

    labels = [f"{r['backend']}\n×{r['clients']}" + ("\nSTALLED" if r["figures"]["stalled"] else "") for r in runs]
    fig, (ttft, total, rss) = plt.subplots(1, 3, figsize=(12, 3.8))
    for ax, key, title in ((ttft, "first_token_ms", "time to first token"), (total, "total_ms", "whole answer")):
        data = [[row[key] / 1000 for row in r["rows"] if row["error"] is None and row[key]] for r in runs]
        ax.boxplot(data, tick_labels=labels, whis=(5, 95), showfliers=True)
        ax.set_yscale("log")
        ax.yaxis.set_major_locator(LogLocator(subs=(1.0, 3.0)))
        ax.yaxis.set_major_formatter(FormatStrFormatter("%g"))
        ax.yaxis.set_minor_formatter(NullFormatter())
        ax.set_ylabel("seconds (log), queueing included")
        ax.set_title(f"{title} (whiskers p5–p95)", fontsize=10)
    for r, label in zip(runs, labels, strict=True):
        if samples := r["rss_samples"]:
            start = samples[0][1]
            name = label.replace("\n", " ") + f" (from {start:.0f} MB)"
            rss.plot([t for t, _ in samples], [m - start for _, m in samples], label=name)
    rss.set_xlabel("seconds since the run started")
    rss.set_ylabel("server RSS − RSS at the start (MB)")
    rss.set_title("server memory, sampled every second", fontsize=10)
    if any(r["rss_samples"] for r in runs):
        rss.legend(fontsize=8)
    save_figure(fig, path)


if __name__ == "__main__":
    raise SystemExit(main())
