"""Defence in depth against instructions planted in documents, and a guard for people's private data.

Documents are data. The prompt tells the model so, but a 1.5B model can still be talked round; a passage
that reads like an instruction to the assistant is therefore not given to the model at all (it stays in the
index and in search results, where a person can see it).

A question for a person's contact details (a phone number, an e-mail, a home address, where a person lives) is
declined before retrieval: the materials hold company addresses and phone numbers, and a small model asked for
"Person X's phone number" hands out the company's as theirs. An organisation's contacts are still answered.

The patterns and words are data: the language files (``assistant/lang/``), every language's at once.
"""

from __future__ import annotations

import re

from .lang.resources import any_of, resources

_LANGUAGE = resources()
_INJECTION = any_of(_LANGUAGE.patterns("injection_patterns"))
_PRIVATE = any_of(_LANGUAGE.patterns("private_data_patterns"))
_CONTACT = any_of(_LANGUAGE.patterns("contact_request_patterns"))
# Requests the kiosk is not for: orders to drop its rules or show them (in the question, not only in documents),
# writing and translating on demand, weather forecasts, and insults. Declined politely before retrieval, with
# one sentence that says what the assistant is for; a small model asked for a poem writes one.
_OUT_OF_SCOPE = any_of(_LANGUAGE.patterns("out_of_scope_patterns"))

_TITLES = frozenset(_LANGUAGE.words("person_titles"))
# Words of organisations' and places' names: a name with one of them is no person's.
_ORGANISATION = frozenset(_LANGUAGE.words("organisation_words") + _LANGUAGE.words("place_words"))
_NO_NAME = frozenset(
    w
    for section in (
        "stopwords",
        "function_words",
        "common_words",
        "detection_words",
        "question_words",
        "auxiliaries",
        "articles",
        "person_titles",
    )
    for w in _LANGUAGE.words(section)
)
_PLACE_PREPOSITIONS = frozenset(_LANGUAGE.words("place_prepositions"))
_TOKEN = re.compile(r"[^\W\d_]+(?:[-'’][^\W\d_]+)*")


def looks_like_injection(text: str) -> bool:
    return _INJECTION.search(text) is not None


def asks_for_private_data(question: str) -> bool:
    """The question asks for a person's private contact details or where someone lives, or for the phone number,
    e-mail or address of a person it names ("Wie lautet die Telefonnummer von Frau X?", "What's Jane Doe's
    email?"); an organisation's ("What is the institute's phone number?") is no person's."""
    if _PRIVATE.search(question) is not None:
        return True
    return _CONTACT.search(question) is not None and bool(named_people(question))


def named_people(text: str) -> list[str]:
    """The people ``text`` names: the capitalised words after a title ("Frau X", "Dr. Jane Doe"), and two or three
    capitalised words in a row ("Jane Doe's") that are not an organisation (none of its words is an organisation
    word — "Example Institute", "Muster GmbH", „Musterförderung“ — or an acronym) nor a place ("in New Town").

    A name is taken for a person only by its form: an organisation named like a person ("Muster Beispiel") counts
    as a person; a person named by one word, without a title, or in lower case, is not found."""
    tokens = list(_TOKEN.finditer(text))
    people: list[str] = []
    i = 0
    while i < len(tokens):
        run = [tokens[i]]
        while i + len(run) < len(tokens) and _adjacent(text, run[-1], tokens[i + len(run)]):
            run.append(tokens[i + len(run)])
        words = [_bare(m.group()) for m in run]
        before = tokens[i - 1].group().lower() if i > 0 else ""
        if words[0].lower() in _TITLES:
            names = [w for w in words if w.lower() not in _TITLES and w[:1].isupper()]
            if names:
                people.append(" ".join(names))
        elif _person_like(words) and before not in _PLACE_PREPOSITIONS:
            people.append(" ".join(w for w in words if _name_word(w)))
        i += len(run)
    return people


def _adjacent(text: str, left: re.Match[str], right: re.Match[str]) -> bool:
    """Two capitalised words with only a space between them (or a title's full stop: "Dr. Doe")."""
    gap = text[left.end() : right.start()]
    return right.group()[:1].isupper() and left.group()[:1].isupper() and re.fullmatch(r"\.?[ \t]+", gap) is not None


def _bare(word: str) -> str:
    return re.sub(r"['’]s$", "", word)


def _person_like(words: list[str]) -> bool:
    named = [w for w in words if _name_word(w)]
    others = [w for w in words if not _name_word(w)]
    # words that are no name ("What", "Telefonnummer") may lead the run; an organisation word anywhere makes it none
    if any(_organisation_word(w) or _acronym(w) for w in words) or not 2 <= len(named) <= 3:
        return False
    return words[len(others) :] == named


def _name_word(word: str) -> bool:
    """A capitalised word that could be a first name or a surname ("Jane", "Müller-Lüdenscheidt")."""
    lower = word.lower()
    if len(word) < 2 or lower in _NO_NAME or _CONTACT.search(word) or _organisation_word(word):
        return False
    return all(part[:1].isupper() and part[1:].islower() for part in word.split("-"))


def _organisation_word(word: str) -> bool:
    """An organisation's or a place's word, inflected ("Technischen") or at the end of a compound
    („Musterförderung“, „Musterstraße“)."""
    lower = word.lower()
    if lower in _ORGANISATION:
        return True
    return any(
        lower.endswith(g) or (lower.startswith(g) and len(lower) - len(g) <= 3) for g in _ORGANISATION if len(g) >= 5
    )


def _acronym(word: str) -> bool:
    letters = word.replace("-", "")
    return len(letters) >= 2 and letters.isupper()


def out_of_scope(question: str) -> bool:
    """The question orders the assistant about, asks for its instructions, wants something written or translated,
    asks for the weather, or insults: nothing the materials answer."""
    return looks_like_injection(question) or _OUT_OF_SCOPE.search(question) is not None
