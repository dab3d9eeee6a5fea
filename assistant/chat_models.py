"""The ``ChatModel`` seam: our messages in, text pieces out as they are generated.

Library types (llama_cpp, langchain, openai, ollama) stay inside ``chat_backends``; every backend failure
reaches the caller as a ``ChatBackendError`` whose message says what to do next.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from .errors import ChatBackendError, ConfigError
from .settings import Settings


@dataclass(frozen=True)
class Message:
    role: Literal["system", "user", "assistant"]
    content: str


class ChatModel(Protocol):
    name: str  # e.g. "llamacpp:qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"

    def stream(
        self,
        messages: Sequence[Message],
        max_tokens: int,
        temperature: float,
        stop: Sequence[str] = (),
        avoid: Sequence[str] = (),
    ) -> Iterator[str]:
        """Yield text pieces as they come; raise ``ChatBackendError`` (never a library error) on failure."""
        ...


Reply = str | Callable[[Sequence[Message]], str]
DEFAULT_FAKE_REPLIES: tuple[Reply, ...] = ("This is a scripted answer from the fake chat model.",)


class FakeChatModel:
    """Scripted replies for tests; records the messages of every call in ``calls``."""

    name = "fake"

    def __init__(
        self, replies: Sequence[Reply] = DEFAULT_FAKE_REPLIES, fail: bool | Exception = False, delay_s: float = 0.0
    ) -> None:
        if not replies:
            raise ValueError("FakeChatModel needs at least one reply")
        self.replies = list(replies)
        self.fail = fail
        self.delay_s = delay_s
        self.calls: list[list[Message]] = []
        self.avoided: list[tuple[str, ...]] = []  # the words each call was asked to avoid

    def stream(
        self,
        messages: Sequence[Message],
        max_tokens: int,
        temperature: float,
        stop: Sequence[str] = (),
        avoid: Sequence[str] = (),
    ) -> Iterator[str]:
        self.calls.append(list(messages))
        self.avoided.append(tuple(avoid))
        # The reply is chosen now (not on first next()) so that call order, not consumption order, counts.
        reply = self.replies[min(len(self.calls), len(self.replies)) - 1]
        return self._pieces(reply, messages)

    def _pieces(self, reply: Reply, messages: Sequence[Message]) -> Iterator[str]:
        if isinstance(self.fail, Exception):
            raise self.fail
        if self.fail:
            raise ChatBackendError("The fake chat backend was told to fail.")
        text = reply(messages) if callable(reply) else reply
        for piece in re.findall(r"\s*\S+", text) or [text]:  # word by word, spaces kept
            if self.delay_s:
                time.sleep(self.delay_s)
            yield piece


def guarded(
    pieces: Iterator[str],
    backend: str,
    timeout_s: float,
    explain: Callable[[Exception], ChatBackendError],
    max_pieces: int | None = None,
) -> Iterator[str]:
    """Enforce a total time limit and non-empty output; turn any library error into a ``ChatBackendError``.

    A per-read client timeout alone would let a server that trickles tokens run forever. ``max_pieces`` is a
    safety net for servers that ignore the token limit (a streamed piece is at least one token).
    """
    deadline = time.monotonic() + timeout_s
    got_text = False
    count = 0
    try:
        for piece in pieces:
            if time.monotonic() > deadline:
                raise ChatBackendError(
                    f"{backend} took longer than {timeout_s:g} s (llm_timeout_s) — it is overloaded or the prompt "
                    "is too long; try again, or raise ASSISTANT_LLM_TIMEOUT_S."
                )
            if piece:
                got_text = got_text or not piece.isspace()
                yield piece
                count += 1
                if max_pieces is not None and count >= max_pieces:
                    break
    except ChatBackendError:
        raise
    except Exception as exc:  # the adapter edge: no library exception may escape
        raise explain(exc) from exc
    finally:
        close = getattr(pieces, "close", None)
        if close is not None:
            close()  # stops the generation when we stop early
    if not got_text:
        raise ChatBackendError(f"{backend} returned no text — check the model name and the server log.")


def make_chat_model(settings: Settings) -> ChatModel | None:
    """The one factory for this seam. ``None`` means no LLM: the pipeline answers extractively."""
    backend = settings.llm_backend
    if backend == "none":
        return None
    if backend == "fake":
        return FakeChatModel()
    from . import chat_backends

    if backend == "llamacpp":
        return chat_backends.LlamaCppChatModel(settings)
    if backend == "openai":
        return chat_backends.OpenAIChatModel(settings)
    if backend == "ollama":
        return chat_backends.OllamaChatModel(settings)
    raise ConfigError(f"Unknown llm_backend '{backend}' — use llamacpp, openai, ollama, none or fake.")
