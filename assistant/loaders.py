"""Read source files into ``Document``s: Markdown (with front matter), text, HTML, PDF, DOCX.

Documents are data: nothing in them is executed or followed. A file that cannot be read raises
``SkipFile`` with a reason; the ingestion run names it and goes on.
"""

from __future__ import annotations

import hashlib
import io
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from .types import Document

SUPPORTED_SUFFIXES = (".md", ".markdown", ".txt", ".html", ".htm", ".pdf", ".docx")
_LANG_SUFFIX = re.compile(r"\.(de|en)$", re.I)
_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n---[ \t]*\r?\n", re.S)


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
    normalisation, one "is there text at all" check and one choice of id and title for every source.

    ``stem`` names the document when its metadata give no ``id`` or ``title``; ``content_hash`` is what tells an
    unchanged source at the next ingestion."""
    text = _normalise(text)
    if len(re.sub(r"\W", "", text)) < 20:
        raise SkipFile("no readable text")
    title = str(meta.get("title") or _first_heading(text) or stem.replace("-", " "))
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
    if b"\x00" in data[:8192]:
        raise SkipFile("binary content in a text file")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
        if sum(ch.isprintable() or ch.isspace() for ch in text) < 0.95 * len(text):
            raise SkipFile("binary content in a text file") from None
        return text


def _read_markdown(data: bytes) -> tuple[str, dict[str, Any]]:
    text = _decode_text(data)
    meta: dict[str, Any] = {}
    match = _FRONT_MATTER.match(text)
    if match:
        try:
            loaded = yaml.safe_load(match.group(1))
        except yaml.YAMLError as exc:
            raise SkipFile(f"broken front matter ({exc.__class__.__name__})") from None
        if isinstance(loaded, dict):
            meta = {str(k): v for k, v in loaded.items()}
        text = text[match.end() :]
    return text, meta


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
    import zipfile

    try:
        import docx

        document = docx.Document(io.BytesIO(data))
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
    text = re.sub(r"[ \t]+\n", "\n", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def _first_heading(text: str) -> str | None:
    match = re.search(r"^#\s+(.+)$", text, re.M)
    return match.group(1).strip() if match else None
