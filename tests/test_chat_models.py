"""The ChatModel seam: a fake, real HTTP stand-ins for OpenAI-compatible and Ollama servers, the real GGUF."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest

from assistant.chat_models import FakeChatModel, Message, make_chat_model
from assistant.errors import AssistantError, ChatBackendError, ModelNotAvailable
from assistant.settings import Settings
from tests.conftest import free_port
from tests.llm_stand_in import REPLY_TOKENS, StandIn

ROOT = Path(__file__).resolve().parent.parent
MESSAGES = [
    Message("system", "Answer only from the passages."),
    Message("user", "Wo ist Halle 4?"),
    Message("assistant", "Bitte?"),
    Message("user", "Halle 4, bitte."),
]


def chat_settings(tmp_path: Path, **fields: Any) -> Settings:
    return Settings(embedder="fake", models_dir=tmp_path / "models", _env_file=None, **fields)


def openai_model(tmp_path: Path, url: str, **fields: Any):
    return make_chat_model(chat_settings(tmp_path, llm_backend="openai", llm_base_url=f"{url}/v1", **fields))


def ollama_model(tmp_path: Path, url: str, **fields: Any):
    return make_chat_model(chat_settings(tmp_path, llm_backend="ollama", llm_base_url=url, **fields))


def collect(model: Any, messages: list[Message] = MESSAGES, **kwargs: Any) -> list[str]:
    return list(model.stream(messages, max_tokens=kwargs.pop("max_tokens", 32), temperature=0.0, **kwargs))


# --- the fake -----------------------------------------------------------------------------------------------


def test_fake_streams_words_records_calls_and_repeats_its_last_reply() -> None:
    model = FakeChatModel(["Halle 4 liegt links.", lambda msgs: f"Echo: {msgs[-1].content}"])
    assert collect(model) == ["Halle", " 4", " liegt", " links."]
    assert "".join(collect(model, [Message("user", "Wo?")])) == "Echo: Wo?"
    assert "".join(collect(model, [Message("user", "Und?")])) == "Echo: Und?"
    assert model.calls == [MESSAGES, [Message("user", "Wo?")], [Message("user", "Und?")]]


def test_fake_fails_on_request() -> None:
    with pytest.raises(ChatBackendError):
        collect(FakeChatModel(["x"], fail=True))
    with pytest.raises(TimeoutError):
        collect(FakeChatModel(["x"], fail=TimeoutError("boom")))


# --- the factory -------------------------------------------------------------------------------------------


def test_factory_chooses_by_name(tmp_path: Path) -> None:
    from assistant.chat_backends import LlamaCppChatModel, OllamaChatModel, OpenAIChatModel

    assert make_chat_model(chat_settings(tmp_path, llm_backend="none")) is None
    fake = make_chat_model(chat_settings(tmp_path, llm_backend="fake"))
    assert isinstance(fake, FakeChatModel) and "".join(collect(fake)).strip()
    assert isinstance(openai_model(tmp_path, "http://127.0.0.1:9"), OpenAIChatModel)
    assert isinstance(ollama_model(tmp_path, "http://127.0.0.1:9"), OllamaChatModel)
    gguf = tmp_path / "models" / "tiny.gguf"
    gguf.parent.mkdir()
    gguf.write_bytes(b"GGUF")  # never loaded: loading is lazy
    model = make_chat_model(chat_settings(tmp_path, llm_backend="llamacpp", llm_model="tiny.gguf"))
    assert isinstance(model, LlamaCppChatModel) and model.name == "llamacpp:tiny.gguf" and model.queue_depth == 0


class _Vocabulary:
    """A stand-in for llama.cpp's tokenizer: one token per listed text, several pieces for anything else."""

    def __init__(self, *single: str) -> None:
        self.ids = {text: n for n, text in enumerate(single, 1)}

    def tokenize(self, text: bytes, add_bos: bool, special: bool) -> list[int]:
        word = text.decode()
        return [self.ids[word]] if word in self.ids else [900, 901]


def test_words_to_avoid_become_a_penalty_on_their_one_token_spellings(tmp_path: Path) -> None:
    gguf = tmp_path / "models" / "tiny.gguf"
    gguf.parent.mkdir()
    gguf.write_bytes(b"GGUF")
    settings = chat_settings(tmp_path, llm_backend="llamacpp", llm_model="tiny.gguf", llm_echo_penalty=10.0)
    model = make_chat_model(settings)
    vocabulary = _Vocabulary(" arms", " Arms", "arms", " Stand")
    # " Standnummer" is several tokens: its first piece " Stand" stays unpenalised (it starts other words too).
    assert model._bias(vocabulary, ["arms", "Standnummer"]) == {1: -10.0, 2: -10.0, 3: -10.0}
    assert model._bias(vocabulary, []) is None
    off = make_chat_model(chat_settings(tmp_path, llm_backend="llamacpp", llm_model="tiny.gguf", llm_echo_penalty=0))
    assert off._bias(vocabulary, ["arms"]) is None


def test_missing_gguf_says_how_to_fetch_it(tmp_path: Path) -> None:
    with pytest.raises(ModelNotAvailable, match="assistant models fetch"):
        make_chat_model(chat_settings(tmp_path, llm_backend="llamacpp", llm_model="nope.gguf"))


def test_damaged_gguf_is_a_model_error_not_a_crash(tmp_path: Path) -> None:
    gguf = tmp_path / "models" / "broken.gguf"
    gguf.parent.mkdir()
    gguf.write_bytes(b"not a gguf at all")
    model = make_chat_model(chat_settings(tmp_path, llm_backend="llamacpp", llm_model=str(gguf)))
    with pytest.raises(ModelNotAvailable, match="assistant models fetch"):
        collect(model)


def test_openai_without_a_url_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(AssistantError, match="ASSISTANT_LLM_BASE_URL"):
        make_chat_model(chat_settings(tmp_path, llm_backend="openai"))


# --- an OpenAI-compatible server ----------------------------------------------------------------------------


def test_openai_streams_tokens_in_order_and_sends_what_we_gave(tmp_path: Path, stand_in: StandIn) -> None:
    model = openai_model(tmp_path, stand_in.url, openai_api_key="sk-test-123", llm_model="qwen")
    assert model is not None and model.name == "openai:qwen"
    pieces = collect(model, max_tokens=12, stop=["\n\n"])
    assert pieces == REPLY_TOKENS
    [request] = stand_in.requests
    assert request["headers"]["authorization"] == "Bearer sk-test-123"
    body = request["body"]
    assert body["messages"] == [{"role": m.role, "content": m.content} for m in MESSAGES]
    assert body["stream"] is True and body["model"] == "qwen" and body["temperature"] == 0.0
    assert body["stop"] == ["\n\n"]
    assert body.get("max_tokens", body.get("max_completion_tokens")) == 12


def test_openai_without_a_key_sends_a_placeholder(tmp_path: Path, stand_in: StandIn) -> None:
    collect(openai_model(tmp_path, stand_in.url))
    assert stand_in.requests[0]["headers"]["authorization"] == "Bearer not-needed"


def test_openai_dead_server_fails_fast_naming_the_url(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    start = time.monotonic()
    with pytest.raises(ChatBackendError, match=f"{url}/v1.*running"):
        collect(openai_model(tmp_path, url))
    assert time.monotonic() - start < 5


def test_openai_slow_server_times_out(tmp_path: Path, stand_in: StandIn) -> None:
    stand_in.mode = "slow"
    start = time.monotonic()
    with pytest.raises(ChatBackendError, match=r"did not answer within 1 s"):
        collect(openai_model(tmp_path, stand_in.url, llm_timeout_s=1.0))
    assert time.monotonic() - start < 2.5


@pytest.mark.parametrize(("mode", "message"), [("error500", "HTTP 500"), ("garbage", "not a chat reply")])
def test_openai_bad_answers_are_backend_errors(tmp_path: Path, stand_in: StandIn, mode: str, message: str) -> None:
    stand_in.mode = mode
    with pytest.raises(ChatBackendError, match=message):
        collect(openai_model(tmp_path, stand_in.url))


def test_openai_empty_answer_is_a_backend_error(tmp_path: Path, stand_in: StandIn) -> None:
    stand_in.mode = "empty"
    with pytest.raises(ChatBackendError, match="returned no text"):
        collect(openai_model(tmp_path, stand_in.url))


def test_openai_trickling_server_hits_the_total_time_limit(tmp_path: Path, stand_in: StandIn) -> None:
    stand_in.mode = "trickle"  # every read is quick, the whole answer is not
    start = time.monotonic()
    with pytest.raises(ChatBackendError, match="took longer than 1 s"):
        collect(openai_model(tmp_path, stand_in.url, llm_timeout_s=1.0))
    assert time.monotonic() - start < 2.5


def test_a_server_ignoring_the_token_limit_is_cut_off(tmp_path: Path, stand_in: StandIn) -> None:
    assert collect(openai_model(tmp_path, stand_in.url), max_tokens=3) == REPLY_TOKENS[:3]


def test_a_stream_closed_early_stops_cleanly(tmp_path: Path, stand_in: StandIn) -> None:
    stream = openai_model(tmp_path, stand_in.url).stream(MESSAGES, max_tokens=8, temperature=0.0)
    assert next(stream) == "Die"
    stream.close()  # a visitor who leaves mid-answer: no error, no hang


# --- an Ollama server ---------------------------------------------------------------------------------------


def test_ollama_streams_tokens_and_sends_options(tmp_path: Path, stand_in: StandIn) -> None:
    model = ollama_model(tmp_path, stand_in.url, llm_model="qwen2.5:1.5b")
    assert model is not None and model.name == "ollama:qwen2.5:1.5b"
    assert collect(model, max_tokens=12, stop=["###"]) == REPLY_TOKENS
    [request] = stand_in.requests
    body = request["body"]
    assert request["path"] == "/api/chat" and body["stream"] is True and body["model"] == "qwen2.5:1.5b"
    assert [(m["role"], m["content"]) for m in body["messages"]] == [(m.role, m.content) for m in MESSAGES]
    assert body["options"] == {"num_predict": 12, "temperature": 0.0, "stop": ["###"]}


def test_ollama_dead_server_fails_fast_naming_the_url(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    start = time.monotonic()
    with pytest.raises(ChatBackendError, match=f"{url}.*running"):
        collect(ollama_model(tmp_path, url))
    assert time.monotonic() - start < 5


@pytest.mark.parametrize(
    ("mode", "message"),
    [("slow", "did not answer within 1 s"), ("error500", "HTTP 500"), ("empty", "returned no text")],
)
def test_ollama_failures_are_backend_errors(tmp_path: Path, stand_in: StandIn, mode: str, message: str) -> None:
    stand_in.mode = mode
    with pytest.raises(ChatBackendError, match=message):
        collect(ollama_model(tmp_path, stand_in.url, llm_timeout_s=1.0))


# --- the real local model -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def local_model() -> Any:
    settings = Settings(
        embedder="fake", models_dir=ROOT / "models", llm_backend="llamacpp", llm_threads=2, _env_file=None
    )
    return make_chat_model(settings)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("system", "question"),
    [
        ("Answer in one word.", "What colour is the sky on a clear day?"),
        ("Antworte mit einem Wort.", "Welche Farbe hat der Himmel an einem klaren Tag?"),
    ],
)
def test_local_model_streams_a_short_reply(local_model: Any, system: str, question: str) -> None:
    pieces = collect(local_model, [Message("system", system), Message("user", question)], max_tokens=8)
    assert len(pieces) >= 1 and "".join(pieces).strip()


@pytest.mark.slow
def test_local_model_keeps_away_from_words_it_is_asked_to_avoid() -> None:
    settings = Settings(
        embedder="fake",
        models_dir=ROOT / "models",
        llm_backend="llamacpp",
        llm_threads=2,
        llm_echo_penalty=10.0,
        _env_file=None,
    )
    model = make_chat_model(settings)
    messages = [Message("system", "Answer in one word."), Message("user", "What colour is the sky on a clear day?")]
    assert "blue" in "".join(collect(model, messages, max_tokens=8)).lower()
    assert "blue" not in "".join(collect(model, messages, max_tokens=8, avoid=["blue"])).lower()


@pytest.mark.slow
def test_local_model_serialises_concurrent_requests(local_model: Any) -> None:
    messages = [Message("system", "Answer in one word."), Message("user", "Name a colour.")]
    results: dict[str, str] = {}
    first_token = threading.Event()
    depths: list[int] = []

    def ask(key: str, hold_s: float) -> None:
        text = ""
        for piece in local_model.stream(messages, max_tokens=8, temperature=0.0):
            first_token.set()
            text += piece
            time.sleep(hold_s)  # keep the first generation busy long enough to see the second one wait
        results[key] = text

    first = threading.Thread(target=ask, args=("first", 0.3))
    first.start()
    assert first_token.wait(60)
    second = threading.Thread(target=ask, args=("second", 0.0))
    second.start()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and not depths:
        if local_model.queue_depth == 1:
            depths.append(1)
        time.sleep(0.01)
    first.join(60)
    second.join(60)
    assert depths == [1], "the second request never waited in the queue"
    assert local_model.queue_depth == 0
    assert results["first"].strip() and results["first"] == results["second"]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("fields", "question", "message"),
    [
        ({"llm_context_tokens": 512}, "word " * 800, "does not fit the local model's context"),
        ({"llm_timeout_s": 0.3}, "Count from 1 to 50.", "took longer than 0.3 s"),
    ],
)
def test_local_model_failures_are_backend_errors(fields: dict[str, Any], question: str, message: str) -> None:
    settings = Settings(embedder="fake", models_dir=ROOT / "models", llm_backend="llamacpp", _env_file=None, **fields)
    model = make_chat_model(settings)
    with pytest.raises(ChatBackendError, match=message):
        collect(model, [Message("user", question)], max_tokens=64)


def test_each_llamacpp_generation_frees_its_sampler_when_it_ends() -> None:
    """llama-cpp-python's sampler is a reference cycle holding a C buffer of the vocabulary's size; left to the
    garbage collector, a server's memory grew by that much per answer (see chat_backends._free_sampler)."""
    from assistant.chat_backends import LlamaCppChatModel

    closed: list[str] = []

    class Sampler:
        def close(self) -> None:
            closed.append("closed")

    class Llama:
        _sampler: Sampler | None = None

        def create_chat_completion(self, **_: object):
            self._sampler = Sampler()
            yield {"choices": [{"delta": {"content": "Hallo"}}]}
            yield {"choices": [{"delta": {"content": " Welt"}}]}

    llm = Llama()
    assert "".join(LlamaCppChatModel._texts(llm, [], 8, 0.0, [])) == "Hallo Welt"
    assert closed == ["closed"] and llm._sampler is None
    pieces = LlamaCppChatModel._texts(llm, [], 8, 0.0, [])
    assert next(pieces) == "Hallo"
    pieces.close()  # a generation stopped early (the visitor left, the time limit) frees it too
    assert closed == ["closed", "closed"] and llm._sampler is None
