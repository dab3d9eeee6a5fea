"""Check a generated answer against the passages it cites, before a visitor sees it.

A small model answers in the visitor's language from passages in either language, so facts are compared after
normalisation, not as strings: dates become (year, month, day), numbers become ``Decimal`` values and names are
folded (case, umlauts, ß, accents) and matched word by word.

Rules
- Numbers: a single kind of separator followed by exactly three digits is a thousands separator ("89.020" =
  "89,020" = 89020), otherwise a decimal one ("1,2" = "1.2"); with both kinds the last one is the decimal point.
  "1,2 Millionen" = "1.2 million" = 1200000 (a passage also offers the bare 1.2); "2020/21" also means 2021.
  Digits inside a date are judged as part of the date; citation markers and list numbering are not numbers.
- Dates: day, month and year must all match one passage date; a year-less date matches any year, a day-less one
  ("September 2024") any day of that month.
- Names: see ``is_supported_name``.

Known limits
- Number words ("vierzig", "forty"), times ("19:30" vs "7:30 pm") and US dates ("09/13/2024") are not normalised.
- German capitalises every noun, so a single capitalised German word is not taken for a name: an invented city in a
  German answer slips through, while a German noun phrase of two capitalised words ("Pfund Maschinen") can be
  flagged when the passages are English; German names only need half their words found (rule (c)). English
  sentence-initial single words are not checked either, and translated names without a shared word ("Beam
  Technology" for "Strahltechnik") are flagged.
- Name matching is lenient (word-start prefix, light stemming, generic organisation words ignored), so an invented
  organisation built from a real distinctive word plus generic words passes.
- A number or name that comes from the question rather than the passages is flagged unless the caller passes it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from .chunking import split_sentences
from .contacts import unsupported_contacts
from .lang import FUNCTION_WORDS
from .lang.resources import alternation, resources
from .lexical import STOPWORDS as _STOPWORDS
from .lexical import fold
from .problems import (
    BrokenCitation,
    Problem,
    ScatteredFacts,
    UnsupportedContact,
    UnsupportedDate,
    UnsupportedName,
    UnsupportedNumber,
    WrongLanguage,
)

DateValue = tuple[int | None, int, int | None]  # (year, month, day)


@dataclass(frozen=True)
class CheckResult:
    ok: bool
    problems: tuple[Problem, ...]  # one per offending item; ``describe()`` reads it
    unsupported: tuple[str, ...]  # the offending numbers, dates and names as written in the answer


@dataclass(frozen=True)
class _Number:
    surface: str
    start: int
    end: int
    accept: frozenset[Decimal]  # the mention is supported when a passage offers one of these
    provide: frozenset[Decimal]  # what the mention offers when it stands in a passage


_LANGUAGE = resources()


def _fold(text: str) -> str:
    """Lower-case ASCII words separated by single spaces; "Müller", "Mueller" and "Muller" all fold alike."""
    return " " + " ".join(re.sub(r"[^a-z0-9]+", " ", fold(text, bare=True)).split()) + " "


def _words(text: str) -> frozenset[str]:
    return frozenset(_fold(text).split())


def folded_words(text: str) -> list[str]:
    """The words of ``text`` in order, folded as the checks compare them ("Müller" → "muller")."""
    return _fold(text).split()


_MONTHS = _LANGUAGE.mapping("months") | _LANGUAGE.mapping("month_abbreviations")
_M = "(" + "|".join(sorted((k[0].upper() + k[1:] for k in _MONTHS), key=len, reverse=True)) + r")\b\.?"
_D = r"(?<![\d.,])(\d{1,2})"
_ORDINAL = alternation(_LANGUAGE.words("ordinal_suffixes"))  # "13th"
_O = rf"(?:{_ORDINAL}|\.)?"  # "13th", "13."
_Y = r"(\d{4})(?!\d)"
_S = rf"(?:{_ORDINAL})?"
_OF = rf"(?:{alternation(_LANGUAGE.words('date_prepositions'))}\s+)?"  # "13th of September"
_TO = rf"\s*{alternation(_LANGUAGE.words('range_words') + _LANGUAGE.words('range_dashes'))}\s*"
_DATE_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), layout)
    for pattern, layout in (
        (r"(?<![\d.])(\d{1,2})\.\s?(\d{1,2})\.\s?(\d{4}|\d{2})(?!\d)", "dmy"),  # 13.09.2024
        (r"(?<!\d)(\d{4})-(\d{1,2})-(\d{1,2})(?!\d)", "ymd"),  # 2024-09-13
        (rf"{_D}{_O}{_TO}(\d{{1,2}}){_O}\s+{_OF}{_M}(?:,?\s+{_Y})?", "ddmy"),  # 9. bis 14. September 2024
        (rf"{_M}\s+(\d{{1,2}}){_O}{_TO}(\d{{1,2}}){_S}(?!\d)(?:,?\s+{_Y})?", "mddy"),  # September 9–14, 2024
        (rf"{_D}{_O}\s+{_OF}{_M}(?:,?\s+{_Y})?", "dmy"),  # 13. Sept. 2024, 13 September
        (rf"{_M}\s+(\d{{1,2}}){_S}(?!\d)(?:,?\s+{_Y})?", "mdy"),  # September 13, 2024; Sept. 13
        (rf"{_M}\s+{_Y}", "my"),  # März 1987
    )
)
_CITATION = re.compile(r"\[\s*\d+(?:\s*[,;–-]\s*\d+)*\s*\]")
_LIST_MARKER = re.compile(rf"(?m)^[ \t]*(?:[-*•][ \t]*)?\d{{1,2}}[.)](?=[ \t])(?![ \t]+{_M})")
_SCALES = _LANGUAGE.mapping("scales")
_NUMBER = re.compile(
    r"(?<!\w)(\d+(?:[.,\u00a0\u202f\u2009']\d+)*)(?:\s?(" + alternation(_SCALES) + r")\b\.?)?", re.IGNORECASE
)
_YEAR_SLASH = re.compile(r"(?<!\w)(\d{4})/(\d{2})(?!\d)")
_TITLE = re.compile(rf"(?:\b{alternation(_LANGUAGE.words('title_abbreviations'))}\.[-\s]?)+")
_WORD = re.compile(r"[^\W\d_]+(?:[-'’][^\W\d_]+)*")


def _section(name: str) -> frozenset[str]:
    """A section of every language's words, folded."""
    return _words(" ".join(_LANGUAGE.words(name)))


_BREAKS = _words(" ".join([*_MONTHS, *_SCALES, *_LANGUAGE.words("weekdays")]))
_FUNCTION = _section("function_words")
_COMMON = _section("common_words")
_GENERIC = _section("organisation_words")
_EQUIVALENTS: dict[str, tuple[str, ...]] = {}  # a place's names in each language count as equal
for _group in _LANGUAGE.groups("place_names").values():
    _members = [_fold(m).strip() for m in _group]
    for _member in _members:
        _EQUIVALENTS[_member] = tuple(m for m in _members if m != _member)
_NAME_SUFFIXES = alternation(_LANGUAGE.words("name_stem_suffixes"))


def _capitalises_nouns(language: str) -> bool | None:
    """Whether ``language`` capitalises every noun (German) or only names (English); None for one without a file."""
    resource = _LANGUAGE.get(language)
    return None if resource is None else resource.capitalises_nouns


def _blank(match: re.Match[str]) -> str:
    return " " * len(match.group())


def strip_citations(text: str) -> str:
    """The text without citation markers such as [1], [1, 2] or [1][2]."""
    return re.sub(r"[ \t]{2,}", " ", re.sub(r"[ \t]*" + _CITATION.pattern, "", text)).strip()


# Source numbers in a row, perhaps joined by a word: "[1][2]", "[1] and [2]", „[1] und [2]“.
_JOINERS = alternation(_LANGUAGE.words("citation_joiners"))
# ", and …", "; …": where a sentence begins a statement of its own
_CLAUSE = re.compile(r"\s*(?:;|,\s+(?=" + alternation(_LANGUAGE.words("clause_joiners")) + r"\s))\s*", re.IGNORECASE)
_CITES = r"(?:\s*" + _CITATION.pattern + r")(?:\s*" + _JOINERS + r"?\s*" + _CITATION.pattern + r")*"
# "This information is sourced from [2].", „Diese Quellen sind [1] und [2].“ at the end of an answer: a remark
# about the sources, not a claim.
_SOURCES = alternation(_LANGUAGE.words("source_nouns"))
_SOURCE_REMARK = re.compile(
    r"(?P<end>[.!?])\s+(?:"
    + alternation(_LANGUAGE.words("remark_determiners"))
    + r"\b[^.!?\[\]]{0,50}?\b"
    + alternation(_LANGUAGE.words("remark_verbs"))
    + r"(?:\s+"
    + alternation(_LANGUAGE.words("remark_fillers") + _LANGUAGE.words("source_nouns"))
    + r")*|"
    + alternation(_LANGUAGE.words("remark_owners"))
    + rf"\s+{_SOURCES}\s+"
    + alternation(_LANGUAGE.words("remark_copulas"))
    + r"\s*:?)(?P<cites>"
    + _CITES
    + r")\s*[.!]?\s*$",
    re.I,
)


# "(Quelle [1])", "(sources: [1][2])": the word around the source numbers goes, the numbers stay.
_SOURCE_WORD = re.compile(rf"\s*\(\s*{_SOURCES}\s*:?\s*(?P<cites>(?:\s*" + _CITATION.pattern + r")+)\s*\)", re.I)


def drop_source_remark(text: str) -> str:
    """Without a closing remark about where the answer comes from ("This is stated in [2]."); its source numbers
    move to the sentence before. A small model likes to add one; it states nothing a visitor needs. Source
    numbers in brackets with a word ("(Quelle [1])") lose the word and the brackets."""
    text = _SOURCE_WORD.sub(lambda m: " " + "".join(m.group("cites").split()), text)
    match = _SOURCE_REMARK.search(text)
    if match is None or not text[: match.start()].strip():
        return text
    cites = match.group("cites")
    joined = cites if not _CITATION.sub("", cites).strip() else "".join(_CITATION.findall(cites))
    return f"{text[: match.start()]}{match.group('end')} {' '.join(joined.split())}"


def drop_repeated_sentences(text: str) -> str:
    """Without the sentences that say again, word for word, what an earlier one said, or its beginning (citation
    markers and case aside): a small model at temperature 0 can fall into a loop and write one sentence until it
    runs out of tokens. The markers of a dropped sentence move to the end of the text, so no source is lost."""
    sentences = split_sentences(text)
    seen: set[str] = set()
    kept: list[str] = []
    moved: list[str] = []
    for sentence in sentences:
        key = " ".join(strip_citations(sentence).casefold().split()).rstrip(" .!?")
        if key and any(k.startswith(key) for k in seen):  # again, or again and cut off by the token limit
            moved += [m for m in _CITATION.findall(sentence) if m not in moved]
            continue
        seen.add(key)
        kept.append(sentence)
    if len(kept) == len(sentences):
        return text
    out = " ".join(kept)
    missing = "".join(m for m in moved if m not in out)
    return f"{out} {missing}" if missing else out


def drop_stray_citations(text: str, n_sources: int) -> str:
    """Without citation markers that point only to passages the model was not given (a model shown one passage
    and a worked example that cites [2] writes "[2]"); a marker that names a real passage too is kept."""

    def keep(marker: re.Match[str]) -> str:
        numbers = [int(n) for n in re.findall(r"\d+", marker.group(0))]
        return marker.group(0) if any(1 <= n <= n_sources for n in numbers) else ""

    kept = re.sub(r"[ \t]*" + _CITATION.pattern, lambda m: keep(m) and m.group(0), text)
    return re.sub(r"[ \t]{2,}", " ", kept).strip()


def cited_indices(text: str) -> list[int]:
    """Cited passage numbers in order of first appearance; "[1, 2]", "[1][2]" and "[1–3]" are understood."""
    seen: list[int] = []
    for marker in _CITATION.finditer(text):
        for part in re.split(r"\s*[,;]\s*", marker.group().strip("[] ")):
            ends = [int(n) for n in re.split(r"\s*[–-]\s*", part)]
            span = range(ends[0], ends[-1] + 1) if 0 <= ends[-1] - ends[0] <= 20 else ends
            seen.extend(n for n in span if n not in seen)
    return seen


def _parse_number(token: str) -> list[Decimal]:
    text = re.sub(r"[\u00a0\u202f\u2009']", "", token)
    seps = [c for c in text if c in ".,"]
    if len(set(seps)) == 2 and seps.count(seps[-1]) == 1:
        thousands = "." if seps[-1] == "," else ","
        return [Decimal(text.replace(thousands, "").replace(seps[-1], "."))]
    head, *groups = re.split(r"[.,]", text)
    if not groups:
        return [Decimal(head)]
    if len(set(seps)) == 1 and len(head) <= 3 and head != "0" and all(len(g) == 3 for g in groups):
        return [Decimal(head + "".join(groups))]
    if len(groups) == 1:
        return [Decimal(f"{head}.{groups[0]}")]
    return [Decimal(part) for part in (head, *groups)]  # "13.09.2024", "1.2.3": separate numbers


def _number_mentions(text: str) -> list[_Number]:
    text = _LIST_MARKER.sub(_blank, text)
    out: list[_Number] = []

    def add(surface: str, start: int, end: int, accept: set[Decimal], extra: tuple[Decimal, ...] = ()) -> None:
        out.append(_Number(surface, start, end, frozenset(accept), frozenset({*accept, *extra})))

    for m in _YEAR_SLASH.finditer(text):  # "WS 2020/21": 2020, and 21 or 2021
        first, second = int(m.group(1)), int(m.group(2))
        add(m.group(1), m.start(), m.start() + 4, {Decimal(first)})
        following = {Decimal(first + 1)} if (first + 1) % 100 == second else set()
        add(m.group(), m.start(), m.end(), {Decimal(second), *following})
    for m in _NUMBER.finditer(_YEAR_SLASH.sub(_blank, text)):
        values = _parse_number(m.group(1))
        if len(values) == 1 and m.group(2):  # "1,2 Millionen": a passage offers 1.2 too
            add(m.group().strip(), m.start(), m.end(), {values[0] * _SCALES[m.group(2).lower()]}, (values[0],))
            continue
        surfaces = [m.group(1)] if len(values) == 1 else re.split(r"[.,]", m.group(1))
        for surface, value in zip(surfaces, values, strict=True):
            add(surface, m.start(), m.end(1), {value})
    return out


def extract_numbers(text: str) -> set[Decimal]:
    """Numeric values in ``text``; "1,2 Millionen" yields both 1.2 and 1200000."""
    return {v for m in _number_mentions(_CITATION.sub(_blank, text)) for v in m.provide}


def _to_dates(layout: str, groups: tuple[str | None, ...]) -> list[DateValue]:
    days: list[int] = []
    month: int | None = None
    year: int | None = None
    for role, group in zip(layout, groups, strict=True):
        if group is None:
            continue
        value = int(group) if group.isdigit() else _MONTHS[group.lower()]
        if role == "d":
            days.append(value)
        elif role == "m":
            month = value
        else:
            year = value + (0 if len(group) == 4 else 2000 if value < 70 else 1900)
    if month is None or not 1 <= month <= 12 or any(not 1 <= d <= 31 for d in days):
        return []
    return [(year, month, d) for d in days] or [(year, month, None)]


def _date_mentions(text: str) -> list[tuple[str, int, int, DateValue]]:
    taken: list[tuple[int, int]] = []
    out: list[tuple[str, int, int, DateValue]] = []
    for pattern, layout in _DATE_PATTERNS:
        for m in pattern.finditer(text):
            if any(m.start() < end and start < m.end() for start, end in taken):
                continue
            dates = _to_dates(layout, m.groups())
            if dates:
                taken.append(m.span())
                out.extend((m.group().strip(), m.start(), m.end(), d) for d in dates)
    return sorted(out, key=lambda mention: mention[1])


def extract_dates(text: str) -> set[DateValue]:
    """Dates as (year or None, month, day or None), from German and English spellings, both ends of a range."""
    return {d for *_, d in _date_mentions(_CITATION.sub(_blank, text))}


def _date_supported(date: DateValue, known: set[DateValue], numbers: set[Decimal]) -> bool:
    year, month, day = date
    return any(
        k_month == month
        and (day is None or k_day == day)
        and (year is None or k_year == year or (k_year is None and Decimal(year) in numbers))
        for k_year, k_month, k_day in known
    )


def _name_like(word: str) -> bool:
    """An acronym (ABC, XYZ) or a word with an inner capital (McDonald): a name in any language."""
    inner = any(any(c.isupper() for c in part[1:]) for part in word.split("-"))
    return word.replace("-", "").isupper() or (inner and any(c.islower() for c in word))


def _at_sentence_start(text: str, pos: int) -> bool:
    before = text[:pos].rstrip(" \t\"'„“”‚‘’«»(*•#>–-")
    return not before or before[-1] in ".!?:\n"


def _flush(run: list[tuple[str, bool]], language: str, out: list[str]) -> None:
    while run and _fold(run[0][0]).strip() in _FUNCTION:
        run = run[1:]
    if len(run) >= 2:
        out.append(" ".join(word for word, _ in run))
    elif run:
        word, initial = run[0]
        key = _fold(word).strip()
        if key in _COMMON or key in _FUNCTION or _is_generic(key):
            return
        if _name_like(word) or (_capitalises_nouns(language) is False and not initial):
            out.append(word)


def _name_mentions(text: str, language: str) -> list[str]:
    text = _TITLE.sub(_blank, _CITATION.sub(_blank, text))
    out: list[str] = []
    run: list[tuple[str, bool]] = []
    prev_end = 0
    for m in _WORD.finditer(text):
        word = "-".join(p for p in re.sub(r"['’]s$", "", m.group()).split("-") if p[:1].isupper())
        contiguous = text[prev_end : m.start()].strip(" \t") == ""
        prev_end = m.end()
        if len(word) >= 2 and word[0].isupper() and _fold(word).strip() not in _BREAKS:
            if not contiguous:
                _flush(run, language, out)
                run = []
            run.append((word, _at_sentence_start(text, m.start())))
        else:
            _flush(run, language, out)
            run = []
    _flush(run, language, out)
    return list(dict.fromkeys(out))


def extract_names(text: str, language: str) -> set[str]:
    """Proper names: runs of two or more capitalised words (leading function words dropped), acronyms, words with
    an inner capital, and in English single capitalised words that are not at a sentence start and not common.

    German capitalises every noun, so a single capitalised German word is not treated as a name (see limits)."""
    return set(_name_mentions(text, language))


def _is_generic(token: str) -> bool:
    return token in _GENERIC or any(token.startswith(g) and len(token) - len(g) <= 3 for g in _GENERIC if len(g) >= 5)


def _token_found(token: str, hay: str) -> bool:
    """Short tokens must occur as words; longer ones, lightly stemmed, at a word start ("dortmunder" → "dortmund")."""
    for word in (token, *_EQUIVALENTS.get(token, ())):
        if len(word) <= 3 and f" {word} " in hay:
            return True
        stem = re.sub(_NAME_SUFFIXES + "$", "", word) if len(word) >= 6 else word
        if len(word) > 3 and re.search(r"\b" + re.escape(stem), hay):
            return True
    return False


def _name_supported(name: str, hay: str, language: str) -> bool:
    key = _fold(_TITLE.sub(" ", name)).strip()
    tokens = [t for t in key.split() if len(t) > 1]
    if not tokens or _token_found(key, hay):
        return True
    if len(tokens) == 1:
        return _token_found(tokens[0], hay)
    found = {t: _token_found(t, hay) for t in tokens}
    distinctive = [t for t in tokens if len(t) >= 3 and not _is_generic(t)]
    if all(found[t] for t in distinctive):
        return True
    tolerant = _capitalises_nouns(language) is True or any(_is_generic(t) for t in tokens)
    covered = sum(found[t] or _is_generic(t) for t in tokens)
    return tolerant and any(found[t] for t in distinctive) and 2 * covered >= len(tokens)


def is_supported_name(name: str, passages: Sequence[str], language: str = "en") -> bool:
    """Whether ``name`` occurs in the passages, allowing for translation.

    Folded (case, umlauts, ß, accents, titles dropped) and matched at word starts with light stemming ("Musterstadt"
    finds "Musterstädter"), a name is supported when (a) it occurs whole, or (b) each of its tokens of three or more
    letters that is not a generic organisation word (university/Universität, institute, chamber …) occurs, or (c) it
    is organisation-like (has a generic word) or ``language`` is "de" (where noun phrases look like names), at least
    one distinctive token occurs and at least half of its tokens occur or are generic: "Technical University
    Musterstadt" matches "Technische Universität Musterstadt". Country exonyms (Germany/Deutschland, USA/United
    States …) count as equal. In English, person names ("Marc Smith") need (a) or (b); in German "Dirk Müller"
    passes (c) when "Dirk" is in the passages."""
    return _name_supported(name, _fold("\n".join(passages)), language)


def check_answer(
    answer: str,
    passages: Sequence[str],
    expected_language: str,
    detect_language: Callable[[str], str],
    n_sources: int | None = None,
    question: str = "",
    passage_languages: Sequence[str] | None = None,
) -> CheckResult:
    """Every number, date and name of ``answer`` must occur in ``passages`` (the caller passes those the answer
    may cite), the answer must be in ``expected_language`` and each citation must point to one of ``n_sources``.
    A phone number, e-mail or street address must stand in a passage, and in one that names the person
    ``question`` asks about, if it names one (see ``contacts``); that second problem lists no item in
    ``unsupported``, since citing another passage does not mend it. When every fact stands somewhere, a statement
    whose facts stand in no one passage together is a problem too (``scattered_sentences``; the languages of the
    passages, ``passage_languages``, say where a translated name cannot be looked for). Each problem is a typed value of
    ``problems`` (``WrongLanguage``, ``UnsupportedNumber`` …); ``describe()`` gives its sentence."""
    text = _CITATION.sub(_blank, answer)
    problems: list[Problem] = []
    unsupported: list[str] = []

    def flag(problem: Problem, item: str | None = None) -> None:
        if problem not in problems:
            problems.append(problem)
            if item is not None:
                unsupported.append(item)

    plain = strip_citations(answer)
    if len(plain.split()) >= 4 and (language := detect_language(plain)) != expected_language:
        flag(WrongLanguage(language, expected_language))
    if n_sources is not None:
        for n in cited_indices(answer):
            if not 1 <= n <= n_sources:
                flag(BrokenCitation(n))
    pool = "\n\n".join(passages)
    known_numbers, known_dates = extract_numbers(pool), extract_dates(pool)
    dates = _date_mentions(text)
    for surface, _, _, value in dates:
        if not _date_supported(value, known_dates, known_numbers):
            flag(UnsupportedDate(surface), surface)
    for number in _number_mentions(text):
        if any(start <= number.start and number.end <= end for _, start, end, _ in dates):
            continue
        if not number.accept & known_numbers:
            flag(UnsupportedNumber(number.surface), number.surface)
    hay = _fold(pool)
    for name in _name_mentions(text, expected_language):
        if not _name_supported(name, hay, expected_language):
            flag(UnsupportedName(name), name)
    for contact, person in unsupported_contacts(text, passages, question):
        if person is None:
            flag(UnsupportedContact(contact), contact)
        else:
            flag(UnsupportedContact(contact, person))
    if not problems and len(passages) > 1:
        for statement in scattered_sentences(text, passages, expected_language, passage_languages):
            flag(ScatteredFacts(statement))
    return CheckResult(not problems, tuple(problems), tuple(unsupported))


def _facts(sentence: str, language: str) -> tuple[list[DateValue], list[_Number], list[str]]:
    """The sentence's dates, the numbers that are not part of a date, and its names."""
    dates = _date_mentions(sentence)
    numbers = [n for n in _number_mentions(sentence) if not any(s <= n.start and n.end <= e for _, s, e, _ in dates)]
    return [d for *_, d in dates], numbers, _name_mentions(sentence, language)


def _holds(
    dates: Sequence[DateValue],
    numbers: Sequence[_Number],
    names: Sequence[str],
    language: str,
    known_numbers: set[Decimal],
    known_dates: set[DateValue],
    hay: str,
    same_language: bool,
) -> bool:
    """Whether one passage holds a statement's facts (see ``scattered_sentences`` for one in another language)."""
    held = [
        *(_date_supported(d, known_dates, known_numbers) for d in dates),
        *(bool(n.accept & known_numbers) for n in numbers),
    ]
    named = [_name_supported(name, hay, language) for name in names]
    if same_language:
        return all(held) and all(named)
    return all(held) and any([*held, *named])


def _statements(text: str) -> list[str]:
    """``text``'s sentences, each cut where a comma or semicolon begins a clause of its own (", and …")."""
    return [part for sentence in split_sentences(text) for part in _CLAUSE.split(sentence) if part.strip()]


def scattered_sentences(
    text: str, passages: Sequence[str], language: str, passage_languages: Sequence[str] | None = None
) -> list[str]:
    """The statements of ``text`` (sentences, cut at ", and …") whose facts (numbers, dates, names; two or more)
    stand in no one passage together: "700 guests were at the award ceremony" joins a number from one event's
    passage to another event's name. A statement is held to one passage because a fact is true of what its own
    passage is about; joining two passages' facts in one statement is how a small model gives one thing's figure
    to another. A name is not looked for in a passage in another language than the answer (``passage_languages``;
    "German Book Prize" for „Deutscher Buchpreis“), but such a passage must hold one of the statement's facts.
    ``text`` may carry citation markers (they are blanked here)."""
    out: list[str] = []
    languages = passage_languages or [language] * len(passages)
    views = [
        (extract_numbers(p), extract_dates(p), _fold(p), lang == language)
        for p, lang in zip(passages, languages, strict=True)
    ]
    for statement in _statements(_CITATION.sub(_blank, text)):
        dates, numbers, names = _facts(statement, language)
        if len(dates) + len(numbers) + len(names) < 2:
            continue
        if not any(_holds(dates, numbers, names, language, *view) for view in views):
            out.append(" ".join(statement.split()))
    return out


# Words an answer needs for its grammar, whatever the sources say: never to be avoided.
_GRAMMAR = _FUNCTION | _COMMON | _STOPWORDS | _words(" ".join(FUNCTION_WORDS)) | _section("grammar_words")


def echoed_words(question: str, sources: Sequence[str], exempt: str = "") -> list[str]:
    """The question's content words that none of ``sources`` uses, nor ``exempt`` (the instructions, the
    refusal sentence): the visitor's wording ("industrial arms", "the company behind brand X"), which an answer
    should not repeat as if the sources said it. A word counts as used when a source holds its first letters
    (all but the last two, at least four), so inflected forms ("founded" for "found") are not listed."""
    have = _fold(" ".join([*sources, exempt]))
    words: list[str] = []
    for word in re.findall(r"[^\W\d_]+", question):  # "club's" gives "club"
        folded = _fold(word).strip()
        if len(folded) < 4 or folded in _GRAMMAR:
            continue
        if folded[: max(4, len(folded) - 2)] in have or word in words:
            continue
        words.append(word)
    return words


# -- the form of a sentence and its denials ----------------------------------------------------------------------
_QUESTION_WORDS = {code: language.question_words for code, language in _LANGUAGE.languages.items()}
# After the question word, a word that is no verb: „Wie viele …“ (languages that capitalise nouns).
_NOT_VERBS = {code: language.not_verbs for code, language in _LANGUAGE.languages.items()}
# Not "do", "does", "did": they leave the answer's sentence ("When did the club open …?" — "The club opened …").
_AUXILIARIES = {code: language.auxiliaries for code, language in _LANGUAGE.languages.items()}


def dropped_verb(question: str, answer: str, language: str) -> str | None:
    """The question's verb, when a sentence of the answer repeats the question around it but leaves it out:
    asked "Is Jane Doe originally from the city?", the 1.5B model writes "Yes, Jane Doe originally from the
    city."; asked „Wann hörte der Bergbau in der Stadt endgültig auf?“, „Der Bergbau in der Stadt endgültig
    auf, …“ — and writes the same again when told (measured). None otherwise.

    Only questions whose verb stands first or right after the question word are read: in German any word there
    that is not capitalised (nouns are), in English an auxiliary ("is", "does" …). A sentence counts as such an
    echo when it holds the two words that follow the verb in the question and, a few words on, the question's last
    word at the end of a clause, and no form of the verb (an auxiliary may stand for an auxiliary: "Was …
    founded?" — "… is dated …"): „Der Gouverneur des Staates ist …“ answers „Wie heißt der Gouverneur des
    Staates?“ with another verb."""
    echo = _verb_echo(question, answer, language)
    return echo[0] if echo else None


def _verb_echo(question: str, answer: str, language: str) -> tuple[str, list[str], str] | None:
    """The question's verb, its words after the verb, and the answer's sentence that repeats them without it."""
    words = re.findall(r"[^\W\d_]+(?:[-'’][^\W\d_]+)*|\d+", question)
    if not words:
        return None
    at = 1 if words[0].lower() in _QUESTION_WORDS.get(language, frozenset()) else 0
    if at >= len(words) - 3:
        return None
    verb = words[at]
    nouns_capitalised = _capitalises_nouns(language)
    if nouns_capitalised is True and at == 1 and (not verb.islower() or verb.lower() in _NOT_VERBS[language]):
        return None  # a noun, or "viele": no verb
    auxiliaries = _AUXILIARIES.get(language, frozenset())
    if nouns_capitalised is False and verb.lower() not in auxiliaries:
        return None
    forms = auxiliaries if verb.lower() in auxiliaries else frozenset({verb.lower()})
    rest = [w.lower() for w in words[at + 1 :]]
    head, last = rest[:2], rest[-1]
    for sentence in re.split(r"(?<=[.!?;])\s+", strip_citations(answer)):
        if forms & {w.lower() for w in re.findall(r"[^\W\d_]+", sentence)}:
            continue
        # the clause of the echo: from the question's words after the verb to its last word and a clause's end
        said = [w.lower() for w in re.findall(r"[^\W\d_]+(?:[-'’][^\W\d_]+)*|\d+|[,.;:!?]", sentence)] + ["."]
        for i in range(len(said) - 1):
            if said[i : i + 2] != head:
                continue
            ends = [j for j in range(i + 2, min(len(said) - 1, i + len(rest) + 3)) if said[j] == last]
            if any(said[j + 1] in ",.;:!?" for j in ends):
                return verb, words[at + 1 :], sentence
    return None


_NEGATION = re.compile(
    "|".join([rf"\b{alternation(_LANGUAGE.words('negations'))}\b", *_LANGUAGE.patterns("negation_patterns")]), re.I
)


# An answer that opens with a denial: "No, …", „Nein, …“, "The firm does not have …", „Es gibt keine …“.
_DENIAL = re.compile(
    "|".join(
        [
            rf"^\W*{alternation(_LANGUAGE.words('denial_openers'))}\b",
            rf"\b{alternation(_LANGUAGE.words('denial_verbs'))}"
            rf"(?:\s+{alternation(_LANGUAGE.words('denial_subjects'))})?"
            rf"\s+{alternation(_LANGUAGE.words('denial_negations'))}\b",
            *_LANGUAGE.patterns("denial_patterns"),
        ]
    ),
    re.I,
)


def unsupported_denial(answer: str, passages: Sequence[str]) -> str | None:
    """The answer's first sentence, when it opens with a denial ("No, firm X does not have an office in the U.S.") and
    none of ``passages`` denies anything: that the sources do not mention a thing does not make it untrue, and the
    honest reply is that the materials do not say. None otherwise; a contrast ("in city A, not city B") is no
    denial."""
    first = next(iter(re.split(r"(?<=[.!?])\s+", strip_citations(answer).strip())), "")
    if not _DENIAL.search(first) or any(_NEGATION.search(p) for p in passages):
        return None
    return first
