from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from assistant.embedders import Embedder
from assistant.env import set_offline_env
from tests.llm_stand_in import StandIn

set_offline_env()

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
MODELS = ROOT / "models"

GRIP_DE = """---
id: grip
title: "GRIP GmbH – Robotik-Zubehör"
name: "GRIP GmbH"
kind: exhibitor
city: Dortmund
language: de
---
# GRIP GmbH – Robotik-Zubehör

## Überblick
Die GRIP GmbH aus Dortmund entwickelt Schnellwechsel- und Verbindungssysteme für Roboter. Kunden kommen u. a. aus der Automobilindustrie.

## Personen
Geschäftsführender Gesellschafter der GRIP GmbH ist Hasan Canti. Das Team umfasste etwa 40 Personen (Stand: Dezember 2021).
"""

FAIR_EN = """---
id: imts-2024
title: "IMTS 2024"
name: "IMTS 2024"
kind: event
language: en
---
# IMTS 2024

## Dates
IMTS 2024 took place from September 9 to 14, 2024 at McCormick Place in Chicago. It counted 89,020 registrants.

## History
IMTS was first held in Cleveland, Ohio, in 1927. It is organised by AMT, the Association For Manufacturing Technology.
"""

BVB_EN = """---
id: bvb-new-york
title: "BVB in New York"
name: "Borussia Dortmund New York office"
kind: partner
language: en
---
# BVB in New York

## Opening
Borussia Dortmund opened its New York office on February 29, 2024. The office is led by Marc Lingenhoff, who worked 16 years for adidas.
"""


def write_corpus(root: Path) -> Path:
    kb = root / "kb"
    (kb / "orgs").mkdir(parents=True)
    (kb / "orgs" / "grip.de.md").write_text(GRIP_DE, encoding="utf-8")
    (kb / "imts-2024.en.md").write_text(FAIR_EN, encoding="utf-8")
    (kb / "orgs" / "bvb-new-york.en.md").write_text(BVB_EN, encoding="utf-8")
    return kb


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    return write_corpus(tmp_path)


@pytest.fixture
def cli_env(tmp_path: Path, corpus: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The CLI as a user runs it: in a fresh folder, the fake embedder, the test corpus, no config file."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ASSISTANT_EMBEDDER", "fake")
    monkeypatch.setenv("ASSISTANT_KNOWLEDGE_DIR", str(corpus))
    monkeypatch.setenv("ASSISTANT_CONFIG", str(tmp_path / "none.toml"))
    return corpus


@pytest.fixture
def settings(tmp_path: Path):
    from assistant.settings import Settings

    return Settings(embedder="fake", index_dir=tmp_path / "index", models_dir=tmp_path / "models", _env_file=None)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def stand_in() -> Iterator[StandIn]:
    """A stand-in LLM server on loopback (``tests/llm_stand_in.py``), stopped after the test."""
    server = StandIn().start()
    yield server
    server.stop()


class ChromaServer:
    """A real `chroma run` on a loopback port, over one folder; ``stop`` and ``start`` again keep port and data."""

    def __init__(self, path: Path) -> None:
        self.path, self.port = path, free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout_s: float = 60) -> None:
        import httpx

        where = ["--path", str(self.path / "db"), "--host", "127.0.0.1", "--port", str(self.port)]
        with open(self.path / "server.log", "ab") as log:
            self._proc = subprocess.Popen(
                [str(VENV_BIN / "chroma"), "run", *where],
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, "ANONYMIZED_TELEMETRY": "False"},
            )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/api/v2/heartbeat", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"chroma run did not start: {(self.path / 'server.log').read_text()[-2000:]}")

    def stop(self) -> None:
        """Terminate it (killed after 20 s) and wait until it is gone. Idempotent."""
        if self._proc is None:
            return
        self._proc.terminate()
        try:
            self._proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait(timeout=20)
        self._proc = None


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real `chroma run` on loopback, for the whole session."""
    server = ChromaServer(tmp_path_factory.mktemp("chroma-server"))
    server.start()
    yield server.url
    server.stop()


@pytest.fixture
def own_chroma_server(tmp_path: Path) -> Iterator[ChromaServer]:
    """A `chroma run` of this test's own, which the test may stop and start again (the session's one is shared)."""
    server = ChromaServer(tmp_path / "chroma")
    server.path.mkdir()
    server.start()
    yield server
    server.stop()


class CachingEmbedder:
    """The real embedder, remembering passages, so a second store is filled without embedding twice."""

    def __init__(self, inner: Embedder) -> None:
        self.inner, self.key, self.cache = inner, inner.key, {}

    def embed_documents(self, texts: Sequence[str], titles: Sequence[str] | None = None) -> list[list[float]]:
        titles = list(titles) if titles is not None else [""] * len(texts)
        todo = [(t, ti) for t, ti in zip(texts, titles, strict=True) if (t, ti) not in self.cache]
        if todo:
            vectors = self.inner.embed_documents([t for t, _ in todo], [ti for _, ti in todo])
            self.cache.update(dict(zip(todo, vectors, strict=True)))
        return [self.cache[(t, ti)] for t, ti in zip(texts, titles, strict=True)]

    def embed_query(self, text: str) -> list[float]:
        return self.inner.embed_query(text)


def _require_models() -> None:
    from assistant.fetch import DEFAULT_MODELS, is_present

    missing = [s.key for s in DEFAULT_MODELS if not is_present(s, MODELS)]
    assert not missing, f"models missing: {missing} — run `make models` (the test command does)"


@pytest.fixture(scope="session")
def embedder() -> CachingEmbedder:
    from assistant.embedders import make_embedder
    from assistant.settings import Settings

    _require_models()
    return CachingEmbedder(make_embedder(Settings(models_dir=MODELS)))


@pytest.fixture(scope="session")
def real(tmp_path_factory: pytest.TempPathFactory, embedder: CachingEmbedder):
    """The real knowledge base, indexed once per session with the real embedder; the local chat model."""
    from assistant.app import build_assistant
    from assistant.settings import Settings

    settings = Settings(models_dir=MODELS, knowledge_dir=ROOT / "knowledge", index_dir=tmp_path_factory.mktemp("idx"))
    assistant = build_assistant(settings, embedder=embedder)
    report = assistant.ingest(progress=False)
    assert report.skipped == [] and len(report.added) == len(list((ROOT / "knowledge").rglob("*.md")))
    return assistant


def source_number(messages: Sequence[Any], needle: str) -> int:
    """The number a prompt gave to the passage containing ``needle`` (for scripted chat models)."""
    # The visitor's question is the last message with sources (before it: the worked example; after it, on a
    # retry: the stricter instruction).
    user = [m.content for m in messages if m.role == "user" and m.content.startswith(("Sources:", "Quellen:"))][-1]
    current = 0
    for line in user.split("\n"):
        if line.startswith("[") and "]" in line:
            current = int(line[1 : line.index("]")])
        elif needle in line:
            return current
    raise AssertionError(f"{needle!r} not in the prompt")


def _postgres_bin() -> Path | None:
    """The folder of Debian's PostgreSQL server binaries (initdb, pg_ctl), or None when not installed."""
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).resolve().parent
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))
    return versions[-1].parent if versions else None


def _as_postgres_user() -> list[str]:
    """initdb refuses to run as root: as root (CI), the server runs as the package's `postgres` user."""
    if os.geteuid() != 0:
        return []
    import pwd

    try:
        pwd.getpwnam("postgres")
    except KeyError:
        return ["runuser", "-u", "nobody", "--"]
    return ["runuser", "-u", "postgres", "--"]


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """A real PostgreSQL server from Debian's package on loopback, for the whole session: a fresh cluster in a
    temporary folder on a free port, trust authentication, user `assistant`. Yields its base URL (no database)."""
    bin_dir = _postgres_bin()
    if bin_dir is None:
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) not installed: apt-get install -y postgresql")
    root = Path(tempfile.mkdtemp(prefix="assistant-pg-"))
    prefix = _as_postgres_user()
    if prefix:
        shutil.chown(root, user=prefix[2])
    data, port = root / "data", free_port()
    run = lambda *args: subprocess.run([*prefix, *args], check=True, capture_output=True, timeout=120)  # noqa: E731
    run(str(bin_dir / "initdb"), "-D", str(data), "-A", "trust", "-U", "assistant", "-E", "UTF8", "--no-sync")
    options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -F"
    run(str(bin_dir / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(root / "server.log"), "-w", "start")
    try:
        yield f"postgresql+psycopg://assistant@127.0.0.1:{port}"
    finally:
        run(str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop")
        shutil.rmtree(root, ignore_errors=True)


def new_postgres_database(server: str) -> str:
    """A new, empty database on the test server; its URL."""
    import psycopg

    name = f"t{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server.replace("postgresql+psycopg", "postgresql") + "/postgres", autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    return f"{server}/{name}"
