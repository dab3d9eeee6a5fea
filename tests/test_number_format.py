"""embed_dtype = "auto": bfloat16 only where the CPU runs it in hardware; an index is never queried across formats."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant import cli, embedders
from assistant.embedders import FakeEmbedder, resolve_dtype
from assistant.ingest import Ingestor, foreign_index
from assistant.settings import Settings
from assistant.store import MemoryStore

AVX2_LAPTOP = "fpu sse2 avx avx2 fma bmi2"
AVX512_BF16 = AVX2_LAPTOP + " avx512f avx512bw avx512_bf16"
AMX_XEON = AVX512_BF16 + " amx_bf16 amx_tile amx_int8"


@pytest.fixture
def cpu(monkeypatch: pytest.MonkeyPatch):
    def set_cpu(flags: str, machine: str = "x86_64") -> None:
        monkeypatch.setattr(embedders, "cpu_flags", lambda: frozenset(flags.split()))
        monkeypatch.setattr(embedders.platform, "machine", lambda: machine)
        resolve_dtype.cache_clear()

    yield set_cpu
    resolve_dtype.cache_clear()


@pytest.mark.parametrize(
    ("flags", "machine", "expected"),
    [
        (AVX2_LAPTOP, "x86_64", "float32"),  # int8 is faster there but answered worse: opt-in only
        (AVX512_BF16, "x86_64", "bfloat16"),
        (AMX_XEON, "x86_64", "bfloat16"),
        ("", "x86_64", "float32"),  # no /proc/cpuinfo: the safe format
        ("fp asimd bf16", "aarch64", "float32"),
    ],
)
def test_auto_takes_bfloat16_only_with_hardware_support(cpu, flags: str, machine: str, expected: str) -> None:
    cpu(flags, machine)
    assert resolve_dtype("auto") == expected


def test_an_explicit_format_is_kept_whatever_the_cpu(cpu) -> None:
    cpu(AVX2_LAPTOP)
    assert resolve_dtype("bfloat16") == "bfloat16"
    cpu(AMX_XEON)
    assert resolve_dtype("float32") == "float32"


def test_auto_is_the_default_and_the_choice_is_logged(cpu, caplog: pytest.LogCaptureFixture) -> None:
    assert Settings.model_fields["embed_dtype"].default == "auto"
    cpu(AVX2_LAPTOP)
    with caplog.at_level("INFO", logger="assistant.embedders"):
        resolve_dtype("auto")
    assert "float32" in caplog.text and "avx512_bf16" in caplog.text


def test_the_index_key_names_the_resolved_format(cpu) -> None:
    settings = Settings(embedder="embeddinggemma-300m", embed_dtype="auto")
    cpu(AVX2_LAPTOP)
    assert embedders._model_key(settings) == "embeddinggemma-300m"
    assert embedders._model_key(settings.with_overrides(embed_dtype="int8")) == "embeddinggemma-300m@int8"
    cpu(AVX512_BF16)
    assert embedders._model_key(settings) == "embeddinggemma-300m@bfloat16"


class KeyedFake(FakeEmbedder):
    def __init__(self, key: str) -> None:
        super().__init__()
        self.key = key


def test_an_index_from_another_format_is_named_and_rebuilt(corpus: Path, settings: Settings) -> None:
    kb = corpus
    store = MemoryStore()
    assert foreign_index(store, KeyedFake("m@bfloat16")) is None  # empty: nothing to mismatch
    Ingestor(store, KeyedFake("m@bfloat16"), settings, progress=False).run([kb])
    assert foreign_index(store, KeyedFake("m@bfloat16")) is None
    reason = foreign_index(store, KeyedFake("m"))
    assert reason is not None and "m@bfloat16" in reason
    here = KeyedFake("m")
    report = Ingestor(store, here, settings, progress=False).run([kb])
    assert len(report.updated) == 3 and report.chunks_embedded == report.chunks_total > 0  # all, in this format
    assert foreign_index(store, here) is None


def test_cli_refuses_to_search_an_index_of_another_format(cli_env: Path, capsys, monkeypatch) -> None:
    assert cli.main(["ingest", "--quiet"]) == 0
    capsys.readouterr()
    monkeypatch.setattr(embedders, "_model_key", lambda settings: "fake-128@bfloat16")
    assert cli.main(["search", "Who leads GRIP?"]) == 4
    err = capsys.readouterr().err
    assert "built with fake-128+" in err and "questions with fake-128@bfloat16+" in err
    assert "run `assistant ingest`" in err and "Traceback" not in err
    assert cli.main(["ingest", "--quiet"]) == 0  # rebuilt in this format, then it answers
    assert cli.main(["search", "Who leads GRIP?"]) == 0
