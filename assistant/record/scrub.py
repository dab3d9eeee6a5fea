"""What looks like personal data is removed from a question before it is recorded.

E-mail addresses and phone numbers are found by their shape. A person's name has no shape: a name is looked for where
people put their own or someone else's (after an introduction, "ich bin", "my name is", after a form of address,
"Frau", "Mr", and in a sign-off, "Grüße, …"; there one to three capitalised words are taken as a name), and
anywhere as the private-data decline finds one (two or three capitalised name words in a row that are no
organisation or place, one of them unknown to the materials: "Is Jane Doe at the booth?"). A name that the
knowledge base itself uses (an exhibitor's managing director, a speaker) is what the visitor asks about, not
personal data, and stays. Erring on the side of privacy: after "ich bin" a capitalised
noun that the materials never use ("Ich bin Einkäufer") is removed too.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable

from ..safety import named_people
from ..store import VectorStore

EMAIL_MARK, PHONE_MARK, NAME_MARK = "[e-mail]", "[phone]", "[name]"

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# A run of digits with the separators people type into phone numbers; which runs are numbers: see _is_phone.
_DIGITS = re.compile(r"(?<![\w.,])\+?\(?\d[\d ()/.\-]{5,}\d(?!\w)")
_DATE = re.compile(r"^\d{1,4}[./-]\d{1,2}[./-]\d{1,4}$")
_US_PHONE = re.compile(r"^\(?\d{3}\)?[ .-]\d{3}[ .-]\d{4}$")

_WORD = r"[A-ZÄÖÜ][\w'’-]*"
_PARTICLE = r"(?:von|van|de|der|zu|da|di|le)"
_NAME = rf"{_WORD}(?:[ \t]+(?:{_PARTICLE}[ \t]+)?{_WORD}){{0,2}}"
_INTRO = (
    r"(?i:\b(?:ich[ \t]+bin|ich[ \t]+hei(?:ß|ss)e|mein[ \t]+name[ \t]+ist|hier[ \t]+(?:ist|spricht)|i[ \t]+am"
    r"|i['’]m|my[ \t]+name[ \t]+is|my[ \t]+name['’]s|this[ \t]+is|name:))[ \t]*,?[ \t]*"
)
_ADDRESS = r"\b(?:Herrn?|Frau|Mr|Mrs|Ms|Miss|Dr|Prof)\.?[ \t]+"
_SIGN_OFF = r"(?i:\b(?:grü(?:ß|ss)e|gru(?:ß|ss)|regards|thanks|thank[ \t]+you|danke|cheers|mfg|lg|vg))[,!.]?\s+"
_NAMES = re.compile(rf"(?P<lead>{_INTRO}|{_ADDRESS})(?P<name>{_NAME})|(?P<sign>{_SIGN_OFF})(?P<end>{_NAME})\W*$")
_CAPITALISED_RUN = re.compile(rf"{_WORD}(?:\s+{_WORD})*")
_TOKEN = re.compile(r"[\w'’-]+")


def _is_phone(run: str) -> bool:
    """Seven or more digits that start like a dialled number (+, 0, a bracket) or are very long or US-shaped,
    and are not a date (09.09.2024)."""
    digits = sum(ch.isdigit() for ch in run)
    if digits < 7 or _DATE.match(run):
        return False
    return run[0] in "+(0" or digits >= 9 or _US_PHONE.match(run) is not None


def name_sequences(texts: Iterable[str]) -> frozenset[tuple[str, ...]]:
    """Every run of one to three capitalised words in ``texts``: the names (and German nouns) the materials use."""
    known: set[tuple[str, ...]] = set()
    for text in texts:
        for run in _CAPITALISED_RUN.findall(text):
            words = _TOKEN.findall(run)
            for n in (1, 2, 3):
                known.update(tuple(words[i : i + n]) for i in range(len(words) - n + 1))
    return frozenset(known)


class Scrubber:
    """Removes e-mail addresses, phone numbers and names of people the knowledge base does not mention.

    ``known``: the capitalised word runs of the knowledge base (``name_sequences``), asked for at each use so
    that a new index is taken into account.
    """

    def __init__(self, known: Callable[[], frozenset[tuple[str, ...]]] = frozenset) -> None:
        self.known = known

    def __call__(self, text: str) -> str:
        text = _EMAIL.sub(EMAIL_MARK, text)
        text = _DIGITS.sub(lambda m: PHONE_MARK if _is_phone(m.group()) else m.group(), text)
        known = self.known()
        text = _NAMES.sub(lambda m: self._name(m, known), text)
        return self._people(text, known)

    @staticmethod
    def _people(text: str, known: frozenset[tuple[str, ...]]) -> str:
        """Names of people anywhere in the text, found by their form as the private-data decline finds them
        (``safety.named_people``: two or three capitalised name words, or a title and a name: "Is Jane Doe at
        the booth?"), unless the knowledge base uses them."""
        for person in named_people(text):
            words = tuple(_TOKEN.findall(person))
            # Found by form alone, a run may be two German nouns ("Halle Drei"): taken for a person only when one of
            # its words never stands capitalised in the materials (a stranger's surname does not).
            if words and words not in known and any((w,) not in known for w in words):
                text = re.sub(r"\s+".join(map(re.escape, words)), NAME_MARK, text, count=1)
        return text

    @staticmethod
    def _name(match: re.Match[str], known: frozenset[tuple[str, ...]]) -> str:
        lead = match.group("lead") if match.group("lead") is not None else match.group("sign")
        name = match.group("name") if match.group("name") is not None else match.group("end")
        if tuple(_TOKEN.findall(name)) in known:
            return match.group()
        return match.group().replace(name, NAME_MARK, 1) if lead is not None else match.group()


class KnownNames:
    """The capitalised word runs of the indexed passages, worked out once per index generation."""

    def __init__(self, store: VectorStore) -> None:
        self.store = store
        self._cached: tuple[str | None, frozenset[tuple[str, ...]]] = (None, frozenset())
        self._lock = threading.Lock()

    def __call__(self) -> frozenset[tuple[str, ...]]:
        generation = self.store.generation()
        with self._lock:
            if generation is not None and self._cached[0] != generation:
                chunks = self.store.chunks()
                texts = [part for c in chunks for part in (c.text, c.title, c.organisation, c.section)]
                self._cached = (generation, name_sequences(texts))
            return self._cached[1]
