"""The load benchmark's pure parts: SSE parsing, one client's request against a scripted server, the summary."""

from __future__ import annotations

import asyncio
import json
import os

import httpx
import pytest

from assistant.evaluation.dataset import Item, load_dataset
from evals.bench_load import assign_questions, memory_summary, server_urls, summarize
from evals.common import DATASET
from evals.load_client import Load, Result, SseParser, ask, rss_mb

QUESTION = Item("q1", "Where is IMTS 2024?", "en", "answerable")


def _sse(*events: tuple[str, dict]) -> bytes:
    return "".join(f"event: {name}\ndata: {json.dumps(data)}\n\n" for name, data in events).encode()


def _ask(handler) -> Result:
    async def go() -> Result:
        async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
            return await ask(client, "http://test", QUESTION, Result(0, QUESTION.id, "en"), timeout_s=30)

    return asyncio.run(go())


def test_sse_parser_reads_events_across_lines_and_ignores_comments():
    parser = SseParser()
    lines = [
        ": keep-alive",
        "",
        "event: queued",
        'data: {"position": 3}',
        "",
        "event: token",
        'data: {"text":',
        "data: 1}",
        "",
    ]
    events = [e for line in lines if (e := parser.feed(line)) is not None]
    assert events == [("queued", {"position": 3}), ("token", {"text": 1})]


def test_a_streamed_answer_records_queue_first_token_route_and_no_error():
    body = _sse(
        ("queued", {"position": 2}),
        ("token", {"text": "In "}),
        ("token", {"text": "Chicago."}),
        ("done", {"route": "llm", "timings": {"total_ms": 1234.0}}),
    )

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.headers["accept"] == "text/event-stream"
        assert json.loads(request.content) == {"question": QUESTION.question, "history": []}
        return httpx.Response(200, content=body, headers={"content-type": "text/event-stream"})

    result = _ask(handler)
    assert result.error is None and result.status == 200
    assert result.queued_position == 2 and result.route == "llm" and result.server_total_ms == 1234.0
    assert result.first_event_ms is not None and result.first_token_ms is not None
    assert result.first_event_ms <= result.first_token_ms <= result.total_ms


def test_an_extractive_answer_without_tokens_counts_done_as_first_token():
    result = _ask(lambda r: httpx.Response(200, content=_sse(("done", {"route": "extractive", "timings": {}}))))
    assert result.error is None and result.first_token_ms is not None and result.route == "extractive"


@pytest.mark.parametrize(
    ("response", "expected"),
    [
        (httpx.Response(429, json={"error": "Too many questions"}), "HTTP 429"),
        (
            httpx.Response(200, content=_sse(("token", {"text": "x"}), ("error", {"error": "boom"}))),
            "error event: boom",
        ),
        (httpx.Response(200, content=_sse(("token", {"text": "x"}))), "no done event"),
        (httpx.Response(200, content=b"event: done\ndata: {not json\n\n"), "JSONDecodeError"),
    ],
)
def test_failures_are_errors_not_answers(response: httpx.Response, expected: str):
    result = _ask(lambda r: response)
    assert result.error is not None and result.error.startswith(expected)
    assert summarize(Load([result], 1.0, [], []))["completed"] == 0


def test_a_connection_failure_is_an_error():
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    assert _ask(handler).error == "ConnectError: refused"


def test_summary_counts_errors_and_takes_percentiles_of_the_answers_only():
    ok = [Result(c, f"q{c}", "en", first_token_ms=100.0 * c, total_ms=1000.0 * c, route="llm") for c in range(1, 11)]
    bad = Result(11, "q11", "en", total_ms=99_000.0, error="timeout: no whole answer after 30 s")
    probes = [(2.0, 12.0), (4.0, 30.0), (6.0, None)]
    figures = summarize(Load([*ok, bad], 30.0, [], probes))
    assert figures["requests"] == 11 and figures["completed"] == 10 and figures["errors"] == 1
    assert figures["error_kinds"] == {"timeout": 1}
    assert figures["answers_per_min"] == 20.0
    assert figures["ttft_p50_ms"] == 550 and figures["ttft_p95_ms"] == 955
    assert figures["total_p50_ms"] == 5500 and figures["total_p95_ms"] == 9550
    assert figures["routes"] == {"llm": 10}
    assert (figures["ready_probes"], figures["ready_probe_failures"], figures["ready_probe_max_ms"]) == (3, 1, 30)


def test_a_one_off_ramp_is_flat_and_steady_growth_is_not():
    ramp = memory_summary([(0, 2000.0), (1, 2080.0), (2, 2085.0), (3, 2100.0), (4, 2090.0)], tolerance_mb=20)
    assert (ramp["start_mb"], ramp["peak_mb"], ramp["end_mb"], ramp["growth_mb"]) == (2000, 2100, 2090, 90.0)
    assert ramp["second_half_growth_mb"] == 5.0 and ramp["flat"] is True
    leak = memory_summary([(0, 2000.0), (1, 2030.0), (2, 2060.0), (3, 2090.0), (4, 2120.0)], tolerance_mb=20)
    assert leak["second_half_growth_mb"] == 60.0 and leak["flat"] is False
    assert memory_summary([], tolerance_mb=20) == {"sampled": False}


def test_clients_get_distinct_answerable_questions_in_both_languages():
    plan = assign_questions(load_dataset(DATASET), clients=50, per_client=1)
    asked = [items[0] for items in plan]
    assert len({i.id for i in asked}) == 50
    assert all(i.kind == "answerable" and not i.history for i in asked)
    assert {i.language for i in asked} == {"de", "en"}
    assert [len(items) for items in assign_questions(load_dataset(DATASET), 3, 4)] == [4, 4, 4]


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="reads /proc")
def test_rss_of_this_process_and_of_a_missing_one():
    assert (rss_mb(os.getpid()) or 0) > 10
    assert rss_mb(2**22 + 12345) is None


def test_urls_are_repeatable_or_comma_separated():
    assert server_urls(["http://a:1/", "http://b:2, http://c:3", " "]) == ["http://a:1", "http://b:2", "http://c:3"]
    assert server_urls([]) == []


def test_the_avx2_path_without_an_avx2_build_says_how_to_get_one(tmp_path, capsys, monkeypatch):
    from evals import bench_load

    monkeypatch.delenv("ATEN_CPU_CAPABILITY", raising=False)
    assert bench_load.main(["--avx2", "--llama-path", str(tmp_path)]) == 2
    assert "make avx2-llama" in capsys.readouterr().err


def test_the_avx2_path_reruns_itself_under_the_limits_with_the_avx2_build_first(tmp_path, monkeypatch):
    from evals import bench_load, common

    (tmp_path / "llama_cpp").mkdir()
    seen: dict = {}
    monkeypatch.delenv("ATEN_CPU_CAPABILITY", raising=False)
    monkeypatch.setattr(common, "rerun_limited", lambda module, argv, env: seen.update(module=module, env=env) or 0)
    assert bench_load.main(["--avx2", "--llama-path", str(tmp_path)]) == 0
    assert seen["module"] == "evals.bench_load"
    assert seen["env"]["ASSISTANT_EMBED_DTYPE"] == "float32" and seen["env"]["ONEDNN_MAX_CPU_ISA"] == "AVX2"
    assert seen["env"]["PYTHONPATH"].split(os.pathsep)[0] == str(tmp_path)
