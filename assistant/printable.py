"""Characters nobody sees, and text made safe to read, print and log.

Text from outside (a visitor's question, a file's name, an exception's message, a request's path) may hold control
characters that forge a line in a log or drive a terminal, zero-width or bidi characters that hide what it says,
and lone surrogates that no encoder accepts (a UTF-8 log, a JSON response and the language detector all fail on
them). ``visible`` cleans text that goes on (a question); ``printable`` escapes text that is only shown.
"""

from __future__ import annotations

import re
import unicodedata

# Control, format (zero-width, bidi overrides, soft hyphen), surrogate, private-use and unassigned characters.
_INVISIBLE = frozenset({"Cc", "Cf", "Cs", "Co", "Cn"})
_SPACES = frozenset("\t\n\v\f\r\x1c\x1d\x1e\x1f\x85\u2028\u2029")  # separate words: become a space, not nothing
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
_SURROGATES = re.compile(r"[\ud800-\udfff]")


def invisible(ch: str) -> bool:
    return unicodedata.category(ch) in _INVISIBLE


def visible(text: str) -> str:
    """NFC text without invisible characters: line breaks and tabs become spaces, the rest is dropped."""
    text = _SURROGATES.sub("", text)  # first: NFC itself cannot take a lone surrogate apart from its neighbours
    text = unicodedata.normalize("NFC", text)
    return "".join(" " if ch in _SPACES else ch for ch in text if ch in _SPACES or not invisible(ch))


def printable(text: str, limit: int = 300) -> str:
    """``text`` for a log line or a terminal: every invisible character escaped (``\\n``, ``\\x1b``, ``\\u202e``),
    nothing a line break or an escape sequence could act on; cut at ``limit`` characters, marked with …"""
    out = "".join(_escape(ch) if invisible(ch) else ch for ch in text[:limit])
    return out[:limit] + "…" if len(text) > limit or len(out) > limit else out


def _escape(ch: str) -> str:
    code = ord(ch)
    if ch in _NAMED:
        return _NAMED[ch]
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"
