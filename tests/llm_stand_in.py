"""A loopback HTTP server playing an OpenAI-compatible or Ollama chat backend: the one stand-in of the tests.

``mode`` picks its behaviour (normal, slow, error500, garbage, empty, trickle, and echo: it answers with the
sentence of the prompt's sources that shares the most words with the question, cited with its [n], the way a
grounded model would — so that an answer through it passes the answer checks); ``requests`` records the calls.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

REPLY_TOKENS = ["Die", " Halle", " 4", " ist", " links", "."]


class StandIn(ThreadingHTTPServer):
    """A loopback server playing an LLM backend; ``mode`` picks its behaviour, ``requests`` records calls."""

    daemon_threads = True
    block_on_close = False

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.mode = "normal"
        self.slow_s = 3.0
        self.requests: list[dict[str, Any]] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def handle_error(self, request: Any, client_address: Any) -> None:  # a client that gave up: not our concern
        pass


class Handler(BaseHTTPRequestHandler):
    server: StandIn

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.requests.append(
            {"path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()}, "body": body}
        )
        mode = self.server.mode
        if mode == "slow":
            time.sleep(self.server.slow_s)
        if mode == "error500":
            return self._send(500, "application/json", b'{"error": {"message": "model crashed"}}')
        if mode == "garbage":
            return self._send(200, "text/event-stream", b"data: <html>Bad Gateway</html>\n\n")
        tokens = [] if mode == "empty" else echo_tokens(body.get("messages", [])) if mode == "echo" else REPLY_TOKENS
        if self.path == "/v1/chat/completions":
            return self._openai(body, tokens)
        if self.path == "/api/chat":
            return self._ollama(body, tokens)
        return self._send(404, "text/plain", b"not found")

    def _send(self, status: int, content_type: str, data: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _openai(self, body: dict[str, Any], tokens: list[str]) -> None:
        base = {"id": "c1", "created": 0, "model": body["model"]}
        if not body.get("stream"):
            message = {"role": "assistant", "content": "".join(tokens)}
            reply = {**base, "object": "chat.completion", "choices": [{"index": 0, "message": message}]}
            return self._send(200, "application/json", json.dumps(reply).encode())
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        deltas = [{"role": "assistant", "content": t} for t in tokens] + [{}]
        for i, delta in enumerate(deltas):
            finish = "stop" if i == len(deltas) - 1 else None
            choice = {"index": 0, "delta": delta, "finish_reason": finish}
            chunk = {**base, "object": "chat.completion.chunk", "choices": [choice]}
            self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
            self.wfile.flush()
            if self.server.mode == "trickle":
                time.sleep(0.4)
        self.wfile.write(b"data: [DONE]\n\n")

    def _ollama(self, body: dict[str, Any], tokens: list[str]) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/x-ndjson")
        self.end_headers()
        for token in tokens:
            line = {"model": body["model"], "message": {"role": "assistant", "content": token}, "done": False}
            self.wfile.write(json.dumps(line).encode() + b"\n")
            self.wfile.flush()
        done = {"model": body["model"], "message": {"role": "assistant", "content": ""}, "done": True}
        self.wfile.write(json.dumps({**done, "done_reason": "stop", "eval_count": len(tokens)}).encode() + b"\n")


def echo_tokens(messages: list[dict[str, Any]]) -> list[str]:
    """The sentence of the last prompt's sources closest to its question (most shared words, the first on a tie),
    with its source number, as word tokens."""
    user = [m["content"] for m in messages if m["role"] == "user" and m["content"].startswith(("Sources:", "Quellen:"))]
    if not user:
        return REPLY_TOKENS
    lines = user[-1].split("\n")
    question = next((line.split(":", 1)[1] for line in lines if line.startswith(("Question:", "Frage:"))), "")
    asked = set(re.findall(r"\w+", question.lower()))
    best, best_score, number = "", -1, 0
    for line in lines:
        if match := re.match(r"^\[(\d+)\]", line):
            number = int(match.group(1))
            continue
        if not number or line.startswith(("Question:", "Frage:")):
            continue
        for sentence in re.split(r"(?<=[.!?])\s+", line.strip()):
            score = len(asked & set(re.findall(r"\w+", sentence.lower())))
            if sentence and score > best_score:
                best, best_score = f"{sentence.rstrip('.')} [{number}].", score
    words = best.split(" ")
    return [words[0], *(f" {w}" for w in words[1:])] if best else REPLY_TOKENS


@contextmanager
def running_stand_in(mode: str = "normal") -> Iterator[StandIn]:
    """The stand-in on a free loopback port, serving from a thread; shut down on exit."""
    server = StandIn()
    server.mode = mode
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
