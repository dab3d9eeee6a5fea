"""Defence in depth against instructions planted in documents.

Documents are data. The prompt tells the model so, but a 1.5B model can still be talked round; a passage
that reads like an instruction to the assistant is therefore not given to the model at all (it stays in the
index and in search results, where a person can see it).
"""

from __future__ import annotations

import re

_PATTERNS = [
    r"\b(ignore|disregard|forget|override)\b.{0,40}\b(instructions?|rules?|prompts?|guidelines)\b",
    r"\b(ignorier\w*|vergiss|missacht\w*|überschreib\w*)\b.{0,40}\b(anweisung\w*|regel\w*|vorgaben?|prompts?)\b",
    r"\b(system|developer)\s*-?\s*prompt\b",
    r"\byou (must|should|are required to) (tell|say|answer|reply|respond)\b",
    r"\bdu (musst|sollst) (jedem|allen|immer)?\s*\w*\s*(sagen|antworten|mitteilen)\b",
    r"\b(as an ai|you are now|act as|pretend to be)\b",
    r"\b(du bist jetzt|tu so als|verhalte dich wie)\b",
    r"<\s*/?\s*(system|assistant|im_start|im_end)\b|<\|im_(start|end)\|>",
]
_INJECTION = re.compile("|".join(f"(?:{p})" for p in _PATTERNS), re.I | re.S)


def looks_like_injection(text: str) -> bool:
    return _INJECTION.search(text) is not None
