"""Read source files into ``Document``s: Markdown (with front matter), text, HTML, PDF, DOCX.

Documents are data: nothing in them is executed or followed. A file that cannot be read raises
``SkipFile`` with a reason; the ingestion run names it and goes on.

Files are untrusted (exhibitors hand them in): a DOCX is size-checked from its zip directory before anything is
inflated and then inflated in bounded steps (``ARCHIVE_LIMITS``); front matter is read without YAML anchors and
aliases (one alias can stand for millions of copies); every metadata field is cut to ``FIELD_LIMITS``; a text
file with control bytes is binary.
"""

from __future__ import annotations

import hashlib
import io
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from .printable import printable, visible
from .types import Document

SUPPORTED_SUFFIXES = (".md", ".markdown", ".txt", ".html", ".htm", ".pdf", ".docx")
_LANG_SUFFIX = re.compile(r"\.(de|en)$", re.I)
_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n---[ \t]*\r?\n", re.S)
MAX_FRONT_MATTER_CHARS = 20_000  # a profile's front matter is a few hundred characters
# Longest value kept of each metadata field that reaches the index, the answers and the screens (characters).
# Longer text is cut at the limit (marked with …); a longer URL is dropped, since a cut one leads elsewhere.
FIELD_LIMITS = {
    "id": 120,
    "title": 200,
    "name": 200,
    "publisher": 200,
    "author": 200,
    "kind": 60,
    "language": 10,
    "website": 500,
    "url": 500,
}
_URL_FIELDS = ("website", "url")
# Control bytes no text file holds (tab, line feed, form feed and carriage return are text): NUL, the terminal's
# escape character, backspace, bell … Anywhere in the file, not only at its start.
_CONTROL_BYTES = re.compile(rb"[\x00-\x08\x0b\x0e-\x1f\x7f]")
_C1_CONTROLS = re.compile(r"[\x80-\x9f]")  # in decoded UTF-8: the 8-bit forms of the terminal's escapes
_CONTROL_TEXT = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f\ud800-\udfff]")  # dropped from extracted text


@dataclass(frozen=True)
class ArchiveLimits:
    """What a DOCX (a zip archive) may declare in its central directory before anything of it is inflated.

    OWASP ASVS (V12, file upload) asks for both an absolute limit and a compression-ratio limit: a zip bomb of
    1 MB that inflates to 1 GB passes any limit on the file's own size. The ratio applies to members above
    ``ratio_floor`` bytes (tiny XML parts compress well and harm nobody); text XML and images stay far below it.
    """

    members: int = 2_000
    member_bytes: int = 50_000_000
    total_bytes: int = 100_000_000
    ratio: int = 100
    ratio_floor: int = 1_000_000


ARCHIVE_LIMITS = ArchiveLimits()


class SkipFile(Exception):
    """This file is skipped; the message says why."""


def load_file(path: Path, display_path: str, max_bytes: int) -> Document:
    data = _read_bytes(path, max_bytes)
    suffix = path.suffix.lower()
    reader = _READERS.get(suffix)
    if reader is None:
        raise SkipFile(f"unsupported file type {suffix or '(none)'}")
    text, meta = reader(data)
    stem = _LANG_SUFFIX.sub("", path.stem)
    lang_match = _LANG_SUFFIX.search(path.stem)
    language = meta.get("language") or (lang_match.group(1) if lang_match else None)
    source = str(path.resolve())
    return make_document(text, meta, stem, display_path, source, hashlib.sha256(data).hexdigest(), language)


def make_document(
    text: str,
    meta: dict[str, Any],
    stem: str,
    display_path: str,
    source_path: str,
    content_hash: str,
    language: str | None = None,
) -> Document:
    """A ``Document`` from text read anywhere (a file here; a LangChain loader's output in ``integrations``): one
    length limit per metadata field, one normalisation, one "is there text at all" check and one choice of id and
    title for every source.

    ``stem`` names the document when its metadata give no ``id`` or ``title``; ``content_hash`` is what tells an
    unchanged source at the next ingestion."""
    meta = limited_meta(meta)
    text = _normalise(text)
    if len(re.sub(r"\W", "", text)) < 20:
        raise SkipFile("no readable text")
    language = meta.get("language") or language
    title = _limited(str(meta.get("title") or _first_heading(text) or stem.replace("-", " ")), FIELD_LIMITS["title"])
    return Document(
        doc_id=str(meta.get("id") or stem),
        path=display_path,
        source_path=source_path,
        file_hash=content_hash,
        title=title,
        text=text,
        language=str(language).lower() if language else None,
        meta=meta,
    )


def _read_bytes(path: Path, max_bytes: int) -> bytes:
    size = path.stat().st_size
    if size == 0:
        raise SkipFile("empty file")
    if size > max_bytes:
        raise SkipFile(f"too large ({size / 1e6:.1f} MB > {max_bytes / 1e6:.1f} MB limit)")
    return path.read_bytes()


def _decode_text(data: bytes) -> str:
    control = _CONTROL_BYTES.search(data)
    if control:
        raise SkipFile(f"binary content in a text file (control byte 0x{control.group()[0]:02x} at {control.start()})")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:  # Windows-1252, where 0x80-0x9f are quotes and letters; else Latin-1
            text = data.decode("cp1252")
        except UnicodeDecodeError:
            text = data.decode("latin-1")
        if sum(ch.isprintable() or ch.isspace() for ch in text) < 0.95 * len(text):
            raise SkipFile("binary content in a text file") from None
        return text
    if _C1_CONTROLS.search(text):
        raise SkipFile("binary content in a text file (control characters)")
    return text


class _NoAliasLoader(yaml.SafeLoader):
    """YAML without anchors and aliases: a few hundred bytes of nested aliases stand for millions of copies
    (the "billion laughs"), and front matter has no use for them. Refused before anything is expanded."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            raise SkipFile("front matter uses YAML anchors or aliases (not allowed)")
        return super().compose_node(parent, index)


def _read_markdown(data: bytes) -> tuple[str, dict[str, Any]]:
    text = _decode_text(data)
    meta: dict[str, Any] = {}
    match = _FRONT_MATTER.match(text)
    if match:
        if len(match.group(1)) > MAX_FRONT_MATTER_CHARS:
            raise SkipFile(f"front matter longer than {MAX_FRONT_MATTER_CHARS} characters")
        try:
            loaded = yaml.load(match.group(1), Loader=_NoAliasLoader)  # a SafeLoader, without aliases
        except yaml.YAMLError as exc:
            raise SkipFile(f"broken front matter ({exc.__class__.__name__})") from None
        if isinstance(loaded, dict):
            meta = {str(k): v for k, v in loaded.items()}
        text = text[match.end() :]
    return text, meta


def limited_meta(meta: dict[str, Any]) -> dict[str, Any]:
    """``meta`` with each field of ``FIELD_LIMITS`` as visible text within its limit (a URL over it dropped)."""
    out = dict(meta)
    for key, limit in FIELD_LIMITS.items():
        if out.get(key) is None:
            continue
        value = visible(str(out[key])[: limit + 1]).strip()
        if key in _URL_FIELDS and len(value) > limit:
            del out[key]
        else:
            out[key] = _limited(value, limit)
    return out


def _limited(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _read_text(data: bytes) -> tuple[str, dict[str, Any]]:
    return _decode_text(data), {}


def _read_html(data: bytes) -> tuple[str, dict[str, Any]]:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(_decode_text(data), "html.parser")
    for tag in soup(["script", "style", "noscript", "template", "iframe", "object", "embed", "svg"]):
        tag.decompose()
    meta: dict[str, Any] = {}
    if soup.title and soup.title.get_text(strip=True):
        meta["title"] = soup.title.get_text(strip=True)
    html_tag = soup.find("html")
    if html_tag is not None and html_tag.get("lang"):
        meta["language"] = str(html_tag.get("lang"))[:2]
    lines: list[str] = []
    body = soup.body or soup
    for el in body.find_all(["h1", "h2", "h3", "h4", "p", "li", "td", "pre", "blockquote"]):
        if el.find_parent(["p", "li", "td", "blockquote"]) is not None:
            continue
        text = el.get_text(" ", strip=True)
        if not text:
            continue
        if el.name in ("h1", "h2", "h3", "h4"):
            lines.append(f"\n{'#' * int(el.name[1])} {text}\n")
        else:
            lines.append(text + "\n")
    if not lines:
        lines.append(body.get_text("\n", strip=True))
    return "\n".join(lines), meta


def _read_pdf(data: bytes) -> tuple[str, dict[str, Any]]:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            raise SkipFile("encrypted PDF")
        pages = [page.extract_text() or "" for page in reader.pages]
        info = reader.metadata
        meta: dict[str, Any] = {}
        if info is not None and info.title:
            meta["title"] = str(info.title)
    except SkipFile:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, OSError) as exc:
        raise SkipFile(f"corrupt PDF ({exc.__class__.__name__})") from None
    return "\n\n".join(pages), meta


def _read_docx(data: bytes) -> tuple[str, dict[str, Any]]:
    try:
        import docx

        document = docx.Document(checked_archive(data))
    except SkipFile:
        raise
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise SkipFile(f"corrupt DOCX ({exc.__class__.__name__})") from None
    except Exception as exc:  # python-docx raises its own PackageNotFoundError and lxml errors
        raise SkipFile(f"corrupt DOCX ({exc.__class__.__name__})") from None
    lines: list[str] = []
    for para in document.paragraphs:
        text = para.text.strip()
        if not text:
            continue
        style = (para.style.name if para.style is not None else "") or ""
        level = re.match(r"Heading (\d)", style)
        if style == "Title":
            lines.append(f"# {text}")
        elif level:
            lines.append(f"{'#' * (int(level.group(1)) + 1)} {text}")
        else:
            lines.append(text)
    meta: dict[str, Any] = {}
    if document.core_properties.title:
        meta["title"] = document.core_properties.title
    return "\n\n".join(lines), meta


def checked_archive(data: bytes, limits: ArchiveLimits = ARCHIVE_LIMITS) -> io.BytesIO:
    """The archive's members, checked against ``limits`` from its central directory before any is inflated, then
    inflated in 64 KB steps into an uncompressed copy for python-docx. zipfile never inflates a member past the
    size its directory declares; but it inflates a whole member in one step, so a directory that understates a
    size would still let python-docx's read take gigabytes at once. Reading the copy inflates nothing."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
            _check_members(members, limits)
            copy = io.BytesIO()
            with zipfile.ZipFile(copy, "w", zipfile.ZIP_STORED) as out:
                for info in members:
                    out.writestr(info.filename, _inflate(archive, info))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, EOFError, OSError) as exc:
        raise SkipFile(f"corrupt DOCX ({exc.__class__.__name__})") from None
    copy.seek(0)
    return copy


def _check_members(members: list[zipfile.ZipInfo], limits: ArchiveLimits) -> None:
    if len(members) > limits.members:
        raise SkipFile(f"zip bomb? the archive holds {len(members)} members (limit {limits.members})")
    total = 0
    for info in members:
        name = printable(info.filename, 80)
        if info.file_size > limits.member_bytes:
            raise SkipFile(
                f"zip bomb? member {name} would inflate to {_mb(info.file_size)} (limit {_mb(limits.member_bytes)})"
            )
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > limits.ratio_floor and ratio > limits.ratio:
            raise SkipFile(
                f"zip bomb? member {name} would inflate {ratio:.0f} times, to {_mb(info.file_size)} "
                f"(limit {limits.ratio} times)"
            )
        total += info.file_size
    if total > limits.total_bytes:
        raise SkipFile(f"zip bomb? the archive would inflate to {_mb(total)} (limit {_mb(limits.total_bytes)})")


def _inflate(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    parts = []
    with archive.open(info) as member:  # stops at the declared size; a wrong CRC raises BadZipFile at the end
        while part := member.read(65_536):
            parts.append(part)
    return b"".join(parts)


def _mb(size: int) -> str:
    return f"{size / 1e6:,.1f} MB"


_READERS: dict[str, Callable[[bytes], tuple[str, dict[str, Any]]]] = {
    ".md": _read_markdown,
    ".markdown": _read_markdown,
    ".txt": _read_text,
    ".html": _read_html,
    ".htm": _read_html,
    ".pdf": _read_pdf,
    ".docx": _read_docx,
}


def _normalise(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u00a0", " ")
    text = _CONTROL_TEXT.sub("", text.replace("\f", "\n").replace("\v", "\n"))  # a PDF's or DOCX's text may hold them
    text = re.sub(r"[ \t]+\n", "\n", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def _first_heading(text: str) -> str | None:
    match = re.search(r"^#\s+(.+)$", text, re.M)
    return match.group(1).strip() if match else None
