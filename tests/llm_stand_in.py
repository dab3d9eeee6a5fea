"""A loopback server playing an LLM backend (OpenAI-compatible and Ollama), misbehaving on command.

``mode`` picks its behaviour for the next requests: normal, slow (sleeps ``slow_s`` first), error500, garbage (SSE
data that is not JSON), wrong_shape (JSON chunks that are no chat reply), empty, trickle (0.4 s per chunk), die
(a few tokens, then the connection is cut in the middle of the chunked body), echo (it answers with the sentence of
the prompt's sources that shares the most words with the question, cited with its [n], the way a grounded model
would, so that an answer through it passes the answer checks). ``stop`` closes its port, so that a
connection is refused; ``StandIn(port)`` starts one on the same port again. Used by the chat-model tests and the
fault tests (``tests/test_faults.py``) through the ``stand_in`` fixture in ``conftest.py``.
"""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

REPLY_TOKENS = ["Die", " Halle", " 4", " ist", " links", "."]
DIE_AFTER = 3  # tokens sent in "die" mode before the connection is cut


class StandIn(ThreadingHTTPServer):
    """A loopback server playing an LLM backend; ``mode`` picks its behaviour, ``requests`` records calls."""

    daemon_threads = True
    block_on_close = False

    def __init__(self, port: int = 0) -> None:
        super().__init__(("127.0.0.1", port), Handler)
        self.mode = "normal"
        self.slow_s = 3.0
        self.tokens = REPLY_TOKENS
        self.requests: list[dict[str, Any]] = []
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    def start(self) -> StandIn:
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the port: from now on a connection is refused. Idempotent."""
        if self._thread is not None:
            self.shutdown()
            self._thread.join(10)
            self._thread = None
        self.server_close()

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
        if mode == "wrong_shape":
            return self._send(200, "text/event-stream", b'data: {"result": "Halle 4", "choices": "none"}\n\n')
        if mode == "echo":
            tokens = echo_tokens(body.get("messages", []))
        else:
            tokens = [] if mode == "empty" else self.server.tokens
        if self.path == "/v1/chat/completions":
            return self._die(body, tokens) if mode == "die" else self._openai(body, tokens)
        if self.path == "/api/chat":
            return self._ollama(body, tokens)
        return self._send(404, "text/plain", b"not found")

    def _send(self, status: int, content_type: str, data: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _chunks(self, body: dict[str, Any], tokens: list[str]) -> list[bytes]:
        base = {"id": "c1", "created": 0, "model": body["model"], "object": "chat.completion.chunk"}
        deltas = [{"role": "assistant", "content": t} for t in tokens] + [{}]
        return [
            f"data: {json.dumps({**base, 'choices': [{'index': 0, 'delta': d, 'finish_reason': f}]})}\n\n".encode()
            for d, f in zip(deltas, [None] * len(tokens) + ["stop"], strict=True)
        ]

    def _openai(self, body: dict[str, Any], tokens: list[str]) -> None:
        if not body.get("stream"):
            message = {"role": "assistant", "content": "".join(tokens)}
            reply = {"id": "c1", "created": 0, "model": body["model"], "object": "chat.completion"}
            reply["choices"] = [{"index": 0, "message": message}]
            return self._send(200, "application/json", json.dumps(reply).encode())
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        for chunk in self._chunks(body, tokens):
            self.wfile.write(chunk)
            self.wfile.flush()
            if self.server.mode == "trickle":
                time.sleep(0.4)
        self.wfile.write(b"data: [DONE]\n\n")

    def _die(self, body: dict[str, Any], tokens: list[str]) -> None:
        """A server that crashes mid-answer: a chunked body (HTTP/1.1), a few tokens, then the socket is cut without
        the last chunk, so the client knows the body is incomplete (with HTTP/1.0 a close would end it cleanly)."""
        self.protocol_version = "HTTP/1.1"
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for chunk in self._chunks(body, tokens)[:DIE_AFTER]:
            self.wfile.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
            self.wfile.flush()
        time.sleep(0.05)
        self.connection.shutdown(socket.SHUT_RDWR)
        self.close_connection = True

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
    """The stand-in on a free loopback port, serving from a thread; stopped on exit."""
    server = StandIn().start()
    server.mode = mode
    try:
        yield server
    finally:
        server.stop()
