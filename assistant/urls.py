"""Which URLs from the documents' metadata may leave the assistant: the screens' links and QR codes, and the
``url`` of every answer's sources (the API, the CLI). One filter for all of them."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

_URL_CHARS = re.compile(r"^[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+$")


def safe_url(url: str | None) -> str | None:
    """The URL when it is a plain absolute http(s) URL, else ``None`` (never a javascript: or data: link)."""
    url = (url or "").strip()
    if not url or len(url) > 500 or not _URL_CHARS.match(url):
        return None
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return url
