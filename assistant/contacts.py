"""Contact details in a draft: a phone number, an e-mail address, a street address or a web address stands in an
answer only as a passage states it, and (all but web addresses) for a person only where that passage names the person.

A small model asked how to reach someone gives the phone number of the organisation whose page it was shown, as
if it were theirs; the number check alone passes that, since every digit is in the passages. Phone numbers are
compared by their digits ("0231/12345-0" = "+49 231 12345-0"), e-mail addresses whole, street addresses by their
words ("Musterstraße 7" = "Musterstr. 7"), web addresses by host and path without scheme, "www." and case
("https://www.example.org/visit/" = "example.org/visit"); a shorter address than a passage's is stated by it
("example.org" by "https://example.org/visit"), a longer one is not: a model asked for "a link" makes up paths.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from .lang.resources import alternation, any_of, resources
from .lexical import fold, tokenize
from .safety import named_people

_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# International (+49 …, 0049 …) or national (0231 …) numbers, and the North American form ((312) 555-0100).
_PHONE = re.compile(
    r"(?<![\w+])\(?(?:\+|00|0)\d[\d \t/().-]{5,}\d(?!\w)|(?<![\w+])\(?\d{3}\)?[ .-]\d{3}[.-]\d{4}(?!\d)"
)
_DATE = re.compile(r"\d{1,2}\.\s?\d{1,2}\.\s?\d{2,4}")
# A URL, or a bare host with a known ending ("example.de"); what follows a host up to a space or a closing bracket
# is its path. Trailing punctuation of the sentence is not part of it.
_URL = re.compile(r"\bhttps?://[^\s<>()\[\]\"']+", re.I)
_HOST = re.compile(
    rf"(?<![\w@.-])(?:www\.)?[\w-]{{2,}}(?:\.[\w-]+)*\.(?:{alternation(resources().words('domain_endings'))})"
    r"(?![\w-])(?:/[^\s<>()\[\]\"']*)?",
    re.I,
)
_STREET = any_of(resources().patterns("street_patterns"), 0)  # as written: a street name is capitalised
MIN_DIGITS = 7  # fewer make no phone number


def contact_details(text: str) -> list[str]:
    """The phone numbers, e-mail addresses, street addresses and web addresses of ``text``, as written."""
    found = [m.group() for m in _EMAIL.finditer(text)]
    plain = _EMAIL.sub(" ", text)
    found += web_addresses(plain)
    plain = _HOST.sub(" ", _URL.sub(" ", plain))
    found += [m.group().strip() for m in _PHONE.finditer(plain) if _is_phone(m.group())]
    found += [m.group() for m in _STREET.finditer(plain)]
    return found


def web_addresses(text: str) -> list[str]:
    """The URLs and bare web addresses ("example.de/path") of ``text``, as written, without the sentence's final
    punctuation."""
    found = [m.group().rstrip(".,;:!?") for m in _URL.finditer(text)]
    hosts = (m.group().rstrip(".,;:!?") for m in _HOST.finditer(_URL.sub(" ", text)))
    # The ending in lower case: "… in the city.It is …" is a missing space, not a web address.
    return found + [h for h in hosts if h.split("/", 1)[0].rsplit(".", 1)[-1].islower()]


def _web_key(address: str) -> str:
    """Host and path, lower case, without scheme, "www.", query, fragment and trailing slash."""
    key = re.sub(r"^https?://", "", address.strip().lower())
    key = re.split(r"[?#]", key, maxsplit=1)[0].removeprefix("www.")
    return key.rstrip("/.")


def _is_web(contact: str) -> bool:
    return "@" not in contact and (_URL.fullmatch(contact) is not None or _HOST.fullmatch(contact) is not None)


def unsupported_contacts(answer: str, passages: Sequence[str], question: str = "") -> list[tuple[str, str | None]]:
    """(contact, None) for each contact detail of ``answer`` that no passage states, and (contact, person) for one
    that only passages which do not name the person ``question`` asks about state."""
    people = [p for p in named_people(question) if tokenize(p)]
    out: list[tuple[str, str | None]] = []
    for contact in dict.fromkeys(contact_details(answer)):
        holding = [p for p in passages if _states(p, contact)]
        if not holding:
            out.append((contact, None))
        elif people and not _is_web(contact) and not any(_names(p, person) for p in holding for person in people):
            out.append((contact, " / ".join(people)))
    return out


def _is_phone(candidate: str) -> bool:
    return len(re.sub(r"\D", "", candidate)) >= MIN_DIGITS and not _DATE.fullmatch(candidate.strip("() "))


def _states(passage: str, contact: str) -> bool:
    if "@" in contact:
        return contact.lower() in {m.group().lower() for m in _EMAIL.finditer(passage)}
    if _is_web(contact):
        key = _web_key(contact)
        return any(k == key or k.startswith(key + "/") for k in map(_web_key, web_addresses(passage)))
    if _is_phone(contact) and _PHONE.fullmatch(contact):
        return any(_same_number(contact, m.group()) for m in _PHONE.finditer(passage) if _is_phone(m.group()))
    return _street_key(contact) in _street_key(passage)


def _same_number(a: str, b: str) -> bool:
    """The same digits, or the same number written internationally (+49 231 …) and nationally (0231 …)."""
    da, db = _international(a), _international(b)
    if da[0] == db[0]:
        return da[1] == db[1]
    (_, full), (_, national) = (da, db) if da[0] else (db, da)
    national = national.removeprefix("0")
    return full.endswith(national) and 1 <= len(full) - len(national) <= 3


def _international(number: str) -> tuple[bool, str]:
    """(written with a country code, its digits without the leading 00)."""
    digits = re.sub(r"\D", "", number)
    written = number.lstrip("( ")
    if written.startswith("+"):
        return True, digits
    if digits.startswith("00"):
        return True, digits[2:]
    return False, digits


def _street_key(text: str) -> str:
    return re.sub(r"strasse\b|str\.", "str", " ".join(fold(text).split()))


def _names(passage: str, person: str) -> bool:
    return set(tokenize(person)) <= set(tokenize(passage))
