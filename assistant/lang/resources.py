"""Language resources are data: one YAML file per language in this folder, and ``common.yaml`` for what no
language owns (domain endings, markup that planted instructions use).

Months, function and question words, refusal and "not known" markers, safety patterns and the like stand once,
in the language's file; grounding, slots, focus, safety, lexical search and language detection all read them
from here. Another language is another file (``fr.yaml`` with every section of ``de.yaml``) and translations
of the prompts, no edit of a module. The files are read once per process (``resources()``); modules build their
regular expressions from them at import.

Conventions of the files: a section is a list of lower-case words (or one text of words separated by spaces)
unless its name ends in ``_patterns`` (regular expressions, matched case-insensitively) or its comment says
otherwise; a word ending in ``*`` stands for every word that begins so ("heutige*": "heutigen", "heutiges" …).
"""

from __future__ import annotations

import dataclasses
import re
import types
import typing
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from ..errors import ConfigError

FOLDER = Path(__file__).parent
COMMON = "common"


class LanguageDataError(ConfigError):
    """A language file is missing, unreadable, or lacks a section; the message names the file and the section."""


@dataclass(frozen=True)
class Language:
    """One language's words, as its file gives them (see de.yaml for what each section is for)."""

    code: str
    # -- writing
    capitalises_nouns: bool
    special_letters: str
    transliteration: Mapping[str, str]
    quotes: tuple[str, ...]
    # -- dates and numbers
    months: Mapping[str, int]
    month_abbreviations: Mapping[str, int]
    seasons: tuple[str, ...]
    weekdays: tuple[str, ...]
    ordinal_suffixes: tuple[str, ...]
    date_prepositions: tuple[str, ...]
    range_words: tuple[str, ...]
    number_words: tuple[str, ...]
    scales: Mapping[str, int]
    # -- words of the grammar
    detection_words: frozenset[str]
    stopwords: frozenset[str]
    stem_suffixes: tuple[str, ...]
    function_words: frozenset[str]
    common_words: frozenset[str]
    grammar_words: frozenset[str]
    organisation_words: frozenset[str]
    name_stem_suffixes: tuple[str, ...]
    title_abbreviations: tuple[str, ...]
    person_titles: frozenset[str]
    place_prepositions: frozenset[str]
    place_words: frozenset[str]
    place_names: Mapping[str, tuple[str, ...]]
    articles: frozenset[str]
    question_words: frozenset[str]
    not_verbs: frozenset[str]
    auxiliaries: frozenset[str]
    clause_joiners: tuple[str, ...]
    # -- denials
    negations: tuple[str, ...]
    negation_patterns: tuple[str, ...]
    denial_openers: tuple[str, ...]
    denial_verbs: tuple[str, ...]
    denial_subjects: tuple[str, ...]
    denial_negations: tuple[str, ...]
    denial_patterns: tuple[str, ...]
    # -- what the question asks for
    number_questions: tuple[str, ...]
    date_questions: tuple[str, ...]
    name_questions: tuple[str, ...]
    web_words: tuple[str, ...]
    not_names: frozenset[str]
    now_words: tuple[str, ...]
    contact_request_patterns: tuple[str, ...]
    street_patterns: tuple[str, ...]
    # -- follow-ups and pointing back
    follow_up_words: frozenset[str]
    follow_up_openers: tuple[str, ...]
    pointing_back_openers: tuple[str, ...]
    pointing_back_adverbs: tuple[str, ...]
    # -- what an answer says about its sources
    refusal_patterns: tuple[str, ...]
    unknown_patterns: tuple[str, ...]
    not_known_sections: tuple[str, ...]
    source_nouns: tuple[str, ...]
    citation_joiners: tuple[str, ...]
    remark_determiners: tuple[str, ...]
    remark_verbs: tuple[str, ...]
    remark_fillers: tuple[str, ...]
    remark_owners: tuple[str, ...]
    remark_copulas: tuple[str, ...]
    # -- safety
    injection_patterns: tuple[str, ...]
    private_data_patterns: tuple[str, ...]
    out_of_scope_patterns: tuple[str, ...]
    # -- messages
    empty_question: str
    question_too_long: str
    question_without_letters: str


@dataclass(frozen=True)
class Common:
    """What belongs to no language."""

    domain_endings: tuple[str, ...]
    range_dashes: tuple[str, ...]
    citation_joiners: tuple[str, ...]
    injection_patterns: tuple[str, ...]
    private_data_patterns: tuple[str, ...]
    out_of_scope_patterns: tuple[str, ...]


@dataclass(frozen=True)
class LanguageResources:
    """Every language file of a folder, merged: ``words``, ``patterns`` and ``mapping`` join a section over all
    languages (a question in either language is read with the words of both, as the modules always did)."""

    languages: Mapping[str, Language]
    common: Common

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(self.languages)

    def get(self, code: str) -> Language | None:
        return self.languages.get(code)

    def words(self, section: str) -> tuple[str, ...]:
        """The section's entries over all languages (then common.yaml's, where it has the section), each once."""
        out: list[str] = []
        for source in (*self.languages.values(), self.common):
            out.extend(getattr(source, section, ()))
        return tuple(dict.fromkeys(out))

    def patterns(self, section: str) -> tuple[str, ...]:
        return self.words(section)

    def mapping(self, section: str) -> dict[str, Any]:
        """A section that maps words to values, over all languages; a word with two values is an error."""
        out: dict[str, Any] = {}
        for language in self.languages.values():
            for key, value in getattr(language, section).items():
                if key in out and out[key] != value:
                    raise LanguageDataError(
                        f"{language.code}.yaml: '{key}' in section '{section}' is {value}, another language says "
                        f"{out[key]}"
                    )
                out[key] = value
        return out

    def groups(self, section: str) -> dict[str, tuple[str, ...]]:
        """A section of named groups (``place_names``), each group joined over all languages."""
        out: dict[str, list[str]] = {}
        for language in self.languages.values():
            for key, members in getattr(language, section).items():
                out.setdefault(key, []).extend(members)
        return {key: tuple(dict.fromkeys(members)) for key, members in out.items()}


def alternation(words: Iterable[str]) -> str:
    """A regular-expression group that matches any of ``words`` (longest first; "heutige*" ends in ``\\w*``);
    one that matches nothing when there are none."""
    unique = sorted(set(words), key=lambda w: (-len(w), w))
    if not unique:
        return "(?!)"
    return "(?:" + "|".join(re.escape(w[:-1]) + r"\w*" if w.endswith("*") else re.escape(w) for w in unique) + ")"


def any_of(patterns: Iterable[str], flags: int = re.I | re.S) -> re.Pattern[str]:
    """One pattern that matches where any of ``patterns`` does (nothing, when there are none)."""
    joined = "|".join(f"(?:{p})" for p in patterns)
    return re.compile(joined or "(?!)", flags)


@lru_cache(maxsize=1)
def resources() -> LanguageResources:
    """The package's language resources, read once."""
    return load_resources(FOLDER)


def load_resources(folder: Path) -> LanguageResources:
    """Every ``<code>.yaml`` of ``folder`` and its ``common.yaml``, checked: a file that lacks a section, has one
    of the wrong kind or one that no module reads is an error that names the file and the section."""
    paths = sorted(p for p in folder.glob("*.yaml") if p.stem != COMMON)
    if not paths:
        raise LanguageDataError(f"no language files (<code>.yaml) in {folder}")
    languages = {p.stem: _build(Language, p, code=p.stem) for p in paths}
    return LanguageResources(types.MappingProxyType(languages), _build(Common, folder / f"{COMMON}.yaml"))


def _build(cls: type[Any], path: Path, **given: Any) -> Any:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise LanguageDataError(f"{path.name}: cannot be read ({exc})") from exc
    if not isinstance(data, dict):
        raise LanguageDataError(f"{path.name}: must be a mapping of sections")
    hints = typing.get_type_hints(cls)
    wanted = [f.name for f in dataclasses.fields(cls) if f.name not in given]
    unknown = sorted(set(data) - set(wanted))
    if unknown:
        raise LanguageDataError(f"{path.name}: unknown section '{unknown[0]}' (sections: {', '.join(wanted)})")
    values = dict(given)
    for name in wanted:
        if name not in data:
            raise LanguageDataError(f"{path.name}: section '{name}' is missing (an empty one is allowed: '{name}: []')")
        values[name] = _convert(data[name], hints[name], f"{path.name}: section '{name}'")
    for name in wanted:
        if name.endswith("_patterns"):
            for pattern in values[name]:
                try:
                    re.compile(pattern)
                except re.error as exc:
                    raise LanguageDataError(
                        f"{path.name}: section '{name}': {pattern!r} is no pattern ({exc})"
                    ) from exc
    return cls(**values)


def _convert(value: Any, hint: Any, where: str) -> Any:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if hint is bool:
        if not isinstance(value, bool):
            raise LanguageDataError(f"{where} must be true or false")
        return value
    if hint is str:
        if value is None:
            return ""
        if not isinstance(value, str):
            raise LanguageDataError(f"{where} must be text")
        return value
    if origin in (tuple, frozenset):
        items = _strings(value, where)
        return frozenset(items) if origin is frozenset else tuple(items)
    if origin is Mapping and args[1] is int:  # {1: [januar, jänner]}: each word with its number
        out: dict[str, int] = {}
        for number, words in _mapping(value, where).items():
            if not isinstance(number, int) or isinstance(number, bool):
                raise LanguageDataError(f"{where}: {number!r} must be a number")
            for word in _strings(words, f"{where}: {number}"):
                if out.setdefault(word, number) != number:
                    raise LanguageDataError(f"{where}: '{word}' stands at {out[word]} and {number}")
        return types.MappingProxyType(out)
    if origin is Mapping and args[1] is str:
        return types.MappingProxyType({str(k): _text(v, f"{where}: {k}") for k, v in _mapping(value, where).items()})
    if origin is Mapping:  # named groups of words
        return types.MappingProxyType(
            {str(k): tuple(_strings(v, f"{where}: {k}")) for k, v in _mapping(value, where).items()}
        )
    raise TypeError(f"no reader for {hint}")  # a field of an unknown kind: a programming error


def _strings(value: Any, where: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):  # "der die das": words separated by spaces
        return value.split()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise LanguageDataError(f"{where} must be a list of words")
    return list(value)


def _mapping(value: Any, where: str) -> dict[Any, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise LanguageDataError(f"{where} must be a mapping")
    return value


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise LanguageDataError(f"{where} must be text")
    return value
