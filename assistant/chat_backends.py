"""The real ``ChatModel`` backends. llama_cpp, langchain, openai and ollama types never leave this module.

Each adapter converts our ``Message`` on the way in, yields plain strings on the way out, and turns every
library failure into a ``ChatBackendError`` via ``guarded``.
"""

from __future__ import annotations

import importlib.util
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .chat_models import Message, guarded
from .errors import ChatBackendError, ConfigError, ModelNotAvailable
from .settings import Settings

DEFAULT_OLLAMA_URL = "http://127.0.0.1:11434"


def resolve_gguf(name: str, models_dir: Path) -> Path:
    """A GGUF is a file in models_dir or a path of its own."""
    for candidate in (models_dir / name, Path(name).expanduser()):
        if candidate.is_file():
            return candidate
    raise ModelNotAvailable(
        f"Chat model '{name}' is not in {models_dir}/ — run `assistant models fetch` first "
        "(or set ASSISTANT_LLM_MODEL to the path of a GGUF file)."
    )


class LlamaCppChatModel:
    """A local GGUF run in-process by llama.cpp, with the chat template stored in the file.

    One generation at a time per process: callers wait on a lock, which is the queue; ``queue_depth`` says how
    many are waiting. The time limit is checked per token, so prompt processing itself is not interrupted.
    """

    def __init__(self, settings: Settings) -> None:
        self.path = resolve_gguf(settings.llm_model, settings.models_dir)
        if importlib.util.find_spec("llama_cpp") is None:
            raise ConfigError(
                "llama-cpp-python is missing — run `pip install -e '.[llm]'` (or `make setup`), "
                "or set ASSISTANT_LLM_BACKEND=none for quoted answers without an LLM."
            )
        self.name = f"llamacpp:{self.path.name}"
        self._threads = settings.llm_threads
        self._context_tokens = settings.llm_context_tokens
        self._flash_attention = settings.llm_flash_attention
        self._timeout_s = settings.llm_timeout_s
        self._max_contexts = settings.llm_contexts
        self._avoid_bias = -settings.llm_echo_penalty
        self._contexts: OrderedDict[str, Any] = OrderedDict()
        self._turn_lock = threading.Lock()
        self._count_lock = threading.Lock()
        self._waiting = 0

    @property
    def queue_depth(self) -> int:
        """Callers waiting for the current generation to finish."""
        return self._waiting

    @contextmanager
    def _turn(self) -> Iterator[None]:
        with self._count_lock:
            self._waiting += 1
        try:
            self._turn_lock.acquire()
        finally:
            with self._count_lock:
                self._waiting -= 1
        try:
            yield
        finally:
            self._turn_lock.release()

    def _load(self, instructions: str) -> Any:
        """The model context for these instructions (the system message), made or reused.

        llama.cpp skips the part of a prompt that matches what its context evaluated last. German and English
        questions have different instructions, so with one context every change of language processes the
        instructions again; one context per instruction text keeps each language's prefix evaluated, and each
        question then processes only its passages and itself. The weights are memory-mapped once and shared.
        """
        llm = self._contexts.get(instructions)
        if llm is not None:
            self._contexts.move_to_end(instructions)
            return llm
        if len(self._contexts) >= self._max_contexts:
            _, oldest = self._contexts.popitem(last=False)
            oldest.close()
        from llama_cpp import Llama

        try:
            llm = Llama(
                model_path=str(self.path),
                n_threads=self._threads,
                n_threads_batch=self._threads,
                n_ctx=self._context_tokens,
                flash_attn=self._flash_attention,
                verbose=False,
            )
        except (ValueError, RuntimeError, OSError) as exc:
            raise ModelNotAvailable(
                f"Could not load {self.path} ({exc}) — the file may be damaged: delete it and run "
                "`assistant models fetch`."
            ) from exc
        self._contexts[instructions] = llm
        return llm

    def stream(
        self,
        messages: Sequence[Message],
        max_tokens: int,
        temperature: float,
        stop: Sequence[str] = (),
        avoid: Sequence[str] = (),
    ) -> Iterator[str]:
        payload = [{"role": m.role, "content": m.content} for m in messages]
        with self._turn():
            llm = self._load(messages[0].content if messages and messages[0].role == "system" else "")
            yield from guarded(
                self._texts(llm, payload, max_tokens, temperature, list(stop), self._bias(llm, avoid)),
                self.name,
                self._timeout_s,
                self._explain,
                max_pieces=max_tokens,
            )

    def _bias(self, llm: Any, words: Sequence[str]) -> dict[int, float] | None:
        """A logit penalty on each word to avoid, in every spelling that is one token of the model's vocabulary
        (" industrial", " Industrial"); a word the tokenizer splits is left alone, since penalising its first
        piece (" Stand" of " Standnummer") would hit other words too."""
        if not words or not self._avoid_bias:
            return None
        bias: dict[int, float] = {}
        for word in words:
            for form in {word, word.lower(), word[:1].upper() + word[1:]}:
                for text in (" " + form, form):
                    tokens = llm.tokenize(text.encode(), add_bos=False, special=False)
                    if len(tokens) == 1:
                        bias[tokens[0]] = self._avoid_bias
        return bias or None

    @staticmethod
    def _texts(
        llm: Any,
        payload: list[dict[str, str]],
        max_tokens: int,
        temperature: float,
        stop: list[str],
        bias: dict[int, float] | None = None,
    ):
        chunks = llm.create_chat_completion(
            messages=payload,
            max_tokens=max_tokens,
            temperature=temperature,
            stop=stop,
            stream=True,
            logit_bias=bias,
        )
        try:
            for chunk in chunks:
                yield chunk["choices"][0]["delta"].get("content") or ""
        finally:
            _free_sampler(llm)

    def _explain(self, exc: Exception) -> ChatBackendError:
        if "context window" in str(exc):
            return ChatBackendError(
                f"The prompt does not fit the local model's context (llm_context_tokens={self._context_tokens}) "
                "— use fewer or shorter passages, or raise ASSISTANT_LLM_CONTEXT_TOKENS."
            )
        return ChatBackendError(f"The local model {self.name} failed ({type(exc).__name__}: {_short(exc)}).")


def _free_sampler(llm: Any) -> None:
    """Free the sampler of the generation that just ended, now. llama-cpp-python (0.3.36) makes one per generation
    and drops it when the next one starts, but it is a reference cycle (the object, its exit stack, the closure
    that frees it), so the C sampler chain it holds, 1.7 MB with this model's 151,936-token vocabulary, waits for
    a full garbage collection, which a server holding millions of objects runs rarely: the load benchmark's server
    grew by 1.7 MB steps over a hundred answers. ``Llama.sample`` makes a new one when it finds none."""
    sampler = getattr(llm, "_sampler", None)
    if sampler is not None and hasattr(sampler, "close"):
        sampler.close()
        llm._sampler = None


def _short(exc: BaseException | str, limit: int = 200) -> str:
    text = " ".join(str(exc).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _to_langchain(messages: Sequence[Message]) -> list[Any]:
    from langchain_core.messages import AIMessage, HumanMessage, SystemMessage

    kinds = {"system": SystemMessage, "user": HumanMessage, "assistant": AIMessage}
    return [kinds[m.role](content=m.content) for m in messages]


def _langchain_texts(chunks: Iterator[Any]) -> Iterator[str]:
    for chunk in chunks:
        content = chunk.content
        yield content if isinstance(content, str) else "".join(str(p.get("text", "")) for p in content)


def _explainer(what: str, url: str, timeout_s: float) -> Callable[[Exception], ChatBackendError]:
    """Map httpx/openai/ollama failures to one message that says which server and what to do.

    langchain-openai re-raises openai errors as langchain-core ``Model*Error`` subclasses; the ollama client
    raises builtin ``ConnectionError``, its ``ResponseError`` (with ``status_code``) or raw httpx errors.
    """

    def explain(exc: Exception) -> ChatBackendError:
        import httpx
        from langchain_core.exceptions import ContextOverflowError, ModelConnectionError, ModelTimeoutError

        status = getattr(exc, "status_code", None)
        if isinstance(exc, httpx.TimeoutException | ModelTimeoutError):
            return ChatBackendError(
                f"The {what} at {url} did not answer within {timeout_s:g} s — is it running and not overloaded?"
            )
        if isinstance(exc, httpx.TransportError | ConnectionError | ModelConnectionError):
            return ChatBackendError(f"Cannot reach the {what} — is the server at {url} running? ({_short(exc)})")
        if isinstance(exc, ContextOverflowError):
            return ChatBackendError(
                f"The prompt is too long for the model at {url} — use fewer passages or a larger context there."
            )
        if isinstance(status, int):
            return ChatBackendError(
                f"The {what} at {url} answered HTTP {status} ({_short(exc)}) — check ASSISTANT_LLM_MODEL "
                "and the server's log."
            )
        return ChatBackendError(
            f"The {what} at {url} sent something that is not a chat reply ({type(exc).__name__}: {_short(exc)}) "
            "— is ASSISTANT_LLM_BASE_URL the right kind of server?"
        )

    return explain


class OpenAIChatModel:
    """Any OpenAI-compatible server (llama-server, vLLM, LM Studio, Ollama's /v1 …) via langchain-openai."""

    def __init__(self, settings: Settings) -> None:
        if not settings.llm_base_url:
            raise ConfigError(
                "llm_backend 'openai' needs a server — set ASSISTANT_LLM_BASE_URL, e.g. http://127.0.0.1:8080/v1."
            )
        from langchain_openai import ChatOpenAI

        self.name = f"openai:{settings.llm_model}"
        self.url = settings.llm_base_url
        self._timeout_s = settings.llm_timeout_s
        key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else ""
        self._client = ChatOpenAI(
            base_url=self.url,
            api_key=key or "not-needed",  # local servers want none; the client insists on one
            model=settings.llm_model,
            timeout=settings.llm_timeout_s,
            max_retries=0,
            streaming=True,
        )

    def stream(
        self,
        messages: Sequence[Message],
        max_tokens: int,
        temperature: float,
        stop: Sequence[str] = (),
        avoid: Sequence[str] = (),
    ) -> Iterator[str]:
        chunks = self._client.stream(
            _to_langchain(messages), stop=list(stop) or None, max_tokens=max_tokens, temperature=temperature
        )
        explain = _explainer("OpenAI-compatible chat server", self.url, self._timeout_s)
        return guarded(_langchain_texts(chunks), self.name, self._timeout_s, explain, max_pieces=max_tokens)


class OllamaChatModel:
    """An Ollama server (its native /api/chat) via langchain-ollama."""

    def __init__(self, settings: Settings) -> None:
        from langchain_ollama import ChatOllama

        self.name = f"ollama:{settings.llm_model}"
        self.url = settings.llm_base_url or DEFAULT_OLLAMA_URL
        self._timeout_s = settings.llm_timeout_s
        self._client = ChatOllama(
            base_url=self.url, model=settings.llm_model, client_kwargs={"timeout": settings.llm_timeout_s}
        )

    def stream(
        self,
        messages: Sequence[Message],
        max_tokens: int,
        temperature: float,
        stop: Sequence[str] = (),
        avoid: Sequence[str] = (),
    ) -> Iterator[str]:
        options: dict[str, Any] = {"num_predict": max_tokens, "temperature": temperature}
        if stop:
            options["stop"] = list(stop)
        chunks = self._client.stream(_to_langchain(messages), options=options)
        explain = _explainer("Ollama server", self.url, self._timeout_s)
        return guarded(_langchain_texts(chunks), self.name, self._timeout_s, explain, max_pieces=max_tokens)
