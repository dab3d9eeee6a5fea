"""The answer pipeline, in explicit steps: understand → retrieve → build messages → generate → check → cite.

Every answer says which route it took: ``llm`` (generated and checked), ``retried`` (the first draft failed
its check, the stricter second one passed), ``extractive`` (quoted from the passages: no model, a dead
backend, or two failed drafts) or ``refusal`` (the passages do not hold the answer).
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from . import prompts
from .chat_models import ChatBackendError, ChatModel, Message
from .errors import ConfigError, ModelNotAvailable
from .event import EventProfile, neutral
from .extractive import draft_quote, extractive_answer, slot_quote
from .focus import select_context
from .grounding import (
    check_answer,
    cited_indices,
    drop_source_remark,
    drop_stray_citations,
    dropped_verb,
    echoed_words,
    restore_verb,
    strip_citations,
    unsupported_denial,
)
from .lang import SUPPORTED, detect_language
from .lang.resources import alternation, any_of, resources
from .lexical import tokenize
from .problems import (
    DroppedVerb,
    EmptyAnswer,
    MissingSlot,
    Problem,
    StaleFigure,
    UnsupportedDenial,
    WrongLanguage,
    describe_all,
    slot_words,
)
from .questions import accepted_question, clean_question
from .retrieval import HybridRetriever, diversify
from .safety import asks_for_private_data, looks_like_injection, out_of_scope
from .settings import Settings
from .slots import asked_slot, asks_about_now, dated_figure, fills_slot
from .types import (
    Answer,
    AnswerEvent,
    DoneEvent,
    Passage,
    ReplaceEvent,
    Source,
    TokenEvent,
    Turn,
)
from .urls import safe_url

_LANGUAGE = resources()
# A question that leans on the one before: a pronoun or "there" (of its language, or English), or an opener
# ("And …", „Was ist mit …“) of any language.
_FOLLOW_UP_WORDS = {code: language.follow_up_words for code, language in _LANGUAGE.languages.items()}
_FOLLOW_UP_OPENERS = re.compile(rf"^\s*{alternation(_LANGUAGE.words('follow_up_openers'))}\b", re.I)


def answer_language(question: str, settings: Settings, requested: str | None) -> str:
    """``question`` must be cleaned (``checked_question`` does it): the detector raises on a lone surrogate."""
    if requested in SUPPORTED:
        return requested
    if settings.answer_language != "auto":
        return settings.answer_language
    return detect_language(question)


def checked_question(question: str, settings: Settings, requested: str | None) -> tuple[str, str]:
    """The question cleaned and accepted (``questions.accepted_question``), and the answer's language, detected on
    the cleaned text; a refusal speaks that language. What every way in to an answer applies first."""
    text = clean_question(question)
    language = answer_language(text[: settings.max_question_chars], settings, requested)
    return accepted_question(text, settings.max_question_chars, language), language


def standalone_question(
    question: str, history: Sequence[Turn], language: str, max_chars: int | None = None
) -> tuple[str, str | None]:
    """The question to retrieve with, and the previous user question when this one leans on it.

    A follow-up ("Where is it based?", "Und wer leitet das?") is searched together with the visitor's
    previous question; the model is told what that question was about (see ``Answerer._topic``). With
    ``max_chars`` the previous question is shortened (at a word) so that the joined text stays within the limit
    the visitor's own question was checked against: a short follow-up after a long question is no "too long".
    """
    previous = next((t.content for t in reversed(history) if t.role == "user" and t.content.strip()), None)
    if previous is None:
        return question, None
    previous = clean_question(previous)  # the history is the visitor's text as well
    if max_chars is not None and len(question) + 1 + len(previous) > max_chars:
        room = max(0, max_chars - len(question) - 1)
        previous = previous[: room + 1].rsplit(" ", 1)[0] if len(previous) > room else previous
        previous = previous[:room]
        if not previous.strip():
            return question, None
    words = re.findall(r"[^\W\d_]+", question.lower())
    leans = (
        len(words) <= 4
        or _FOLLOW_UP_OPENERS.search(question) is not None
        or any(w in _FOLLOW_UP_WORDS[language] or w in _FOLLOW_UP_WORDS["en"] for w in words)
    )
    if not leans:
        return question, None
    return f"{previous} {question}", previous


def build_messages(
    language: str,
    passages: Sequence[Passage],
    question: str,
    topic: str | None,
    settings: Settings,
    texts: Sequence[str] | None = None,
    *,
    event: EventProfile,
) -> list[Message]:
    """``topic``: what a follow-up is about (see ``Answerer._topic``); ``texts``: what to show of each passage
    (its focused sentences), the whole passage by default; ``event``: the fair the instructions name."""
    refusal = prompts.text("refusal", language)
    system = prompts.render(
        "system", language, words=settings.answer_words, refusal=refusal, event=event.prompt_vars(language)
    )
    shown = texts if texts is not None else [p.chunk.text for p in passages]
    user = prompts.render(
        "user",
        language,
        passages=[
            {"title": p.chunk.title, "organisation": p.chunk.organisation, "text": text}
            for p, text in zip(passages, shown, strict=True)
        ],
        question=question,
        topic=topic or "",
    )
    return [Message("system", system), Message("user", user)]


# The cores of "I don't know" in both languages: the refusal sentence itself and the ways a small model
# rephrases it ("The founding year is not stated in the sources. Please ask the booth staff.").
_REFUSAL_MARKERS = any_of(_LANGUAGE.patterns("refusal_patterns"), 0)  # matched in the folded answer
# The kinds of value a quoted sentence may give when the model's answer left it out (see Answerer._instead). Not
# names: every capitalised German noun would count as one.
QUOTED_SLOTS = ("web", "number")
_NOT_KNOWN_SECTION = re.compile("|".join(map(re.escape, _LANGUAGE.words("not_known_sections"))), re.I)


def is_refusal(text: str, language: str) -> bool:
    """The model said it does not know (in either language), perhaps in its own words; short answers only,
    so an answer that gives facts and adds "other details are not in the sources" still counts as an answer."""
    folded = re.sub(r"\s+", " ", re.sub(r"[^\w\s]", " ", text.lower())).strip()
    longest = max(len(prompts.text("refusal", lang)) for lang in SUPPORTED)
    return len(folded) <= longest + 80 and _REFUSAL_MARKERS.search(folded) is not None


def from_unknowns(passage: Passage) -> bool:
    """The passage is a "What is not known" section: quoting it is a refusal in other words."""
    return _NOT_KNOWN_SECTION.search(passage.chunk.section) is not None


def _sources(passages: Sequence[Passage], numbers: Sequence[int]) -> tuple[Source, ...]:
    out = []
    for n in numbers:
        c = passages[n - 1].chunk
        snippet = c.text if len(c.text) <= 280 else c.text[:277].rsplit(" ", 1)[0] + " …"
        url = safe_url(c.url) or ""  # a javascript: or data: link from a document never leaves, on any surface
        out.append(Source(n, c.title, c.document, c.organisation, url, snippet, c.language, c.text))
    return tuple(out)


@dataclass
class _Draft:
    text: str
    problems: tuple[Problem, ...]


class Answerer:
    def __init__(
        self,
        retriever: HybridRetriever,
        chat: ChatModel | None,
        settings: Settings,
        event: EventProfile | None = None,
    ) -> None:
        self.retriever = retriever
        self.chat = chat
        self.settings = settings
        self.event = event or neutral()  # the fair: named in the instructions, and the date "today" means
        self._lock = threading.Lock()
        self._waiting = 0
        self._waiting_lock = threading.Lock()

    @property
    def queue_depth(self) -> int:
        """Questions waiting for the one generation slot of this process."""
        return self._waiting

    @property
    def busy(self) -> bool:
        """A generation is running now."""
        return self._lock.locked()

    @property
    def model_name(self) -> str:
        return self.chat.name if self.chat is not None else "none"

    def warm_up(self) -> None:
        """Load the chat model and process each language's instructions once (a one-token answer), so that the
        first visitor in either language does not wait for them; one generation at a time, this one included."""
        if self.chat is None:
            return
        for language in ("de", "en"):
            system = build_messages(language, [], "Hi", None, self.settings, event=self.event)[0]
            with self._slot():
                "".join(self.chat.stream([system, Message("user", "Hi")], 1, 0.0))

    def ask(self, question: str, history: Sequence[Turn] = (), language: str | None = None) -> Answer:
        for event in self.stream(question, history, language):
            if isinstance(event, DoneEvent):
                return event.answer
        raise AssertionError("the answer stream ended without an answer")

    def stream(self, question: str, history: Sequence[Turn] = (), language: str | None = None) -> Iterator[AnswerEvent]:
        started = time.perf_counter()
        question, lang = checked_question(question, self.settings, language)
        query = question  # until retrieval: a declined question has no other, and no passages
        passages: list[Passage] = []
        timings: dict[str, float | None] = {"retrieve_ms": None, "first_token_ms": None, "total_ms": None}

        def finish(text: str, route: str, reason: str, numbers: Sequence[int]) -> DoneEvent:
            timings["total_ms"] = _ms(started)
            return DoneEvent(
                Answer(
                    question=question,
                    standalone_question=query,
                    answer=text,
                    language=lang,
                    refused=route == "refusal",
                    route=route,
                    reason=reason,
                    sources=_sources(passages, numbers),
                    timings=dict(timings),
                    prompt_version=prompts.prompt_version(),
                    model=self.model_name,
                )
            )

        declined = _declined(question)
        if declined is not None:
            key, reason = declined
            text = prompts.render(key, lang, event=self.event.prompt_vars(lang))
            timings["first_token_ms"] = _ms(started)
            yield TokenEvent(text)
            yield finish(text, "refusal", reason, ())
            return
        query, previous = standalone_question(question, history, lang, self.settings.max_question_chars)
        passages = self._retrieve(question, query, previous)
        timings["retrieve_ms"] = _ms(started)

        refusal = prompts.text("refusal", lang)
        slot = asked_slot(question)
        if passages and from_unknowns(passages[0]):
            # The organisers wrote down that this is not known: say so, in the question's language.
            timings["first_token_ms"] = _ms(started)
            yield TokenEvent(refusal)
            yield finish(refusal, "refusal", "the best passage lists this as not known", ())
            return

        if self.chat is None:
            passages = passages[: self.settings.context_passages]
            text, route, numbers = self._quoted(question, passages, lang)
            reason = "no chat model configured"
            if route != "refusal" and not fills_slot(text, slot, question):
                text, route, numbers, reason = self._instead(
                    question, slot, passages, lang, MissingSlot(slot).describe()
                )
            timings["first_token_ms"] = _ms(started)
            yield TokenEvent(text)
            yield finish(text, route, reason, numbers)
            return

        # Planted instructions never reach the model; nor does what the materials say is not known (see
        # select_context).
        context = [p for p in passages if not looks_like_injection(p.chunk.text)]
        passages = context[: self.settings.context_passages]  # until the context is chosen
        topic = self._topic(previous) if previous else None  # a search, like retrieval: before the slot
        streamed: list[str] = []
        try:
            with self._slot():
                chosen = select_context(
                    [query, question] if previous else [query],
                    context,
                    self.retriever.embedder,
                    self.settings.context_sentences,
                    self.settings.context_passages,
                    unknown_sections=[from_unknowns(p) for p in context],
                )
                if not chosen:
                    raise _NothingToAnswerFrom()
                passages = [p for p, _ in chosen]  # the citation numbers follow what the model was given
                texts = [text for _, text in chosen]
                messages = build_messages(lang, passages, question, topic, self.settings, texts, event=self.event)
                avoid = self._echoes(question, passages, texts, lang, messages, topic)
                for piece in self.chat.stream(
                    messages, self.settings.llm_max_tokens, self.settings.llm_temperature, avoid=avoid
                ):
                    if timings["first_token_ms"] is None:
                        timings["first_token_ms"] = _ms(started)
                    streamed.append(piece)
                    yield TokenEvent(piece)
                first = self._judge("".join(streamed), passages, lang, question)
                retry = None
                garbled = not first.problems and self._unfit(first.text, question, slot, passages) is None
                if garbled and (verb := dropped_verb(question, first.text, lang)):
                    # Asked again, the model writes the same sentence (measured): quoted below, no second draft.
                    first = _Draft(first.text, (DroppedVerb(verb),))
                elif first.problems and not is_refusal(first.text, lang):
                    retry = self._retry(messages, first, lang, passages, question)
        except _NothingToAnswerFrom:
            timings["first_token_ms"] = _ms(started)
            yield TokenEvent(refusal)
            yield finish(refusal, "refusal", "no passage fit to answer from", ())
            return
        except (ChatBackendError, ModelNotAvailable, ConfigError) as exc:
            text, route, numbers = self._quoted(question, passages, lang)
            text = f"{text} {prompts.text('backend_down_note', lang)}"
            if timings["first_token_ms"] is None:
                timings["first_token_ms"] = _ms(started)
            yield ReplaceEvent(text, f"chat backend failed: {exc}") if streamed else TokenEvent(text)
            yield finish(text, route, f"chat backend failed: {exc}", numbers)
            return

        if is_refusal(first.text, lang):
            if first.text.strip() != refusal:
                yield ReplaceEvent(refusal, "refusal sentence normalised")
            yield finish(refusal, "refusal", "the passages do not answer the question", ())
            return
        unfit = None if first.problems else self._unfit(first.text, question, slot, passages)
        if unfit is not None:
            text, route, numbers, reason = self._instead(question, slot, passages, lang, unfit.describe())
            yield ReplaceEvent(text, reason)
            yield finish(text, route, reason, numbers)
            return
        if not first.problems:
            text, numbers = self._with_citations(first.text, passages, lang)
            shown = "".join(streamed).strip()
            if text.startswith(shown):  # only source numbers were added: they stream as the last piece
                if text[len(shown) :]:
                    yield TokenEvent(text[len(shown) :])
            else:
                yield ReplaceEvent(text, "source numbers corrected")
            yield finish(text, "llm", "check passed", numbers)
            return
        reason = "first draft failed the check: " + describe_all(first.problems)
        if retry is None:  # a garbled sentence (see dropped_verb): what it meant, quoted from its sources
            cited = self._cited(first.text, passages, lang)
            intro = prompts.text("extractive_intro", lang)
            quote = draft_quote(first.text, passages, cited, lang, intro)
            if quote is None or not fills_slot(quote[0], slot, question):  # not in the visitor's language: mended
                mended = restore_verb(question, first.text, lang)
                text, numbers = self._with_citations(mended or first.text, passages, lang)
                reason += "; no quote in the answer's language gives its facts"
                reason += "; the verb put back after its subject" if mended else "; shown as written"
                yield ReplaceEvent(text, reason)
                yield finish(text, "llm", reason, numbers)
                return
            yield ReplaceEvent(quote[0], reason + "; quoted what it says")
            yield finish(quote[0], "extractive", reason + "; quoted what it says", quote[1])
            return
        if is_refusal(retry.text, lang):
            yield ReplaceEvent(refusal, reason)
            yield finish(refusal, "refusal", reason + "; the second draft refused", ())
        elif not retry.problems and (unfit := self._unfit(retry.text, question, slot, passages)) is not None:
            text, route, numbers, reason = self._instead(
                question, slot, passages, lang, reason + "; " + unfit.describe()
            )
            yield ReplaceEvent(text, reason)
            yield finish(text, route, reason, numbers)
        elif not retry.problems:
            text, numbers = self._with_citations(retry.text, passages, lang)
            yield ReplaceEvent(text, reason)
            yield finish(text, "retried", reason, numbers)
        else:
            reason += "; second draft failed too: " + describe_all(retry.problems)
            if _invented(retry.problems):
                # Twice a fact the passages do not hold: the passages do not answer this question.
                text, route, numbers = refusal, "refusal", []
            else:  # right facts, wrong form (language, source numbers): quote the passages instead
                text, route, numbers = self._quoted(question, passages, lang)
            if route != "refusal" and not fills_slot(text, slot, question):
                text, route, numbers, reason = self._instead(
                    question, slot, passages, lang, f"{reason}; {MissingSlot(slot).describe()}"
                )
            yield ReplaceEvent(text, reason)
            yield finish(text, route, reason, numbers)

    # -- steps -----------------------------------------------------------------------------------------
    def _unfit(self, text: str, question: str, slot: str | None, passages: Sequence[Passage]) -> Problem | None:
        """Why a checked answer still does not answer the question, or None: it lacks the kind of value asked
        for, or it gives a figure for "today" that the materials date years before (a firm's "about 40" staff
        of December 2021 is no answer to "How many people work at the firm today?")."""
        if not fills_slot(text, slot, question):
            return MissingSlot(slot)
        if slot == "number" and asks_about_now(question):
            year = dated_figure(text, [p.chunk.text for p in passages], self.event.present_year())
            if year is not None:
                return StaleFigure(year)
        return None

    def _instead(
        self, question: str, slot: str | None, passages: Sequence[Passage], language: str, reason: str
    ) -> tuple[str, str, list[int], str]:
        """(text, route, source numbers, reason) to show instead of an answer that lacks the value asked for: for
        a website or a count, the sentence of the passages that gives it, quoted (see ``slot_quote``), when it is
        fit to answer (a count for "today" must not be years old); otherwise the refusal."""
        if slot in QUOTED_SLOTS:
            intro = prompts.text("extractive_intro", language)
            quote = slot_quote(question, slot, passages, language, intro, skip=from_unknowns)
            if quote is not None and self._unfit(quote[0], question, slot, passages) is None:
                quoted = f"{reason}; quoted the sentence that gives the {slot_words(slot)}"
                return quote[0], "extractive", quote[1], quoted
        return prompts.text("refusal", language), "refusal", [], reason

    def _retrieve(self, question: str, query: str, previous: str | None) -> list[Passage]:
        """The pool of passages whose sentences compete for the prompt.

        A follow-up is searched twice, as asked and together with the previous question, and the two rankings
        are fused: a passage that answers both comes first, so "Who heads it?" after "Where is institute X
        based?" finds the institute's head, and a question that changes the topic ("OK, different question:
        when did club Y open its office?") is not drowned by the previous one.
        """
        pool, cap = self.settings.context_pool, self.settings.context_pool_per_document
        combined = self.retriever.search(query, k=pool, max_per_document=cap)
        if previous is None:
            return combined
        alone = self.retriever.search(question, k=pool, max_per_document=cap)
        fused: dict[str, float] = {}
        by_id: dict[str, Passage] = {}
        for ranking in (combined, alone):
            for rank, p in enumerate(ranking):
                fused[p.chunk.id] = fused.get(p.chunk.id, 0.0) + 1 / (self.settings.rrf_k + rank + 1)
                by_id.setdefault(p.chunk.id, p)
        order = [by_id[cid] for cid in sorted(fused, key=lambda cid: -fused[cid])]
        chosen = {c.id for c in diversify([p.chunk for p in order], pool, cap)}
        return [p for p in order if p.chunk.id in chosen]

    def _topic(self, previous: str) -> str | None:
        """What a follow-up is about, as the model is told: the organisation of the passage that best answers the
        previous question. Not that question itself: shown "The visitor's previous question: When was university X
        founded?", the 1.5B model answered it again („Die Hochschule X wurde … gegründet“) instead of "Und wie
        viele Studierende hat sie?"."""
        best = self.retriever.search(previous, k=1)
        return (best[0].chunk.organisation or best[0].chunk.title) if best else None

    @staticmethod
    def _quoted(question: str, passages: Sequence[Passage], language: str) -> tuple[str, str, list[int]]:
        """The quoted answer; the refusal when the best passage is a "what is not known" section."""
        if passages and from_unknowns(passages[0]):
            return prompts.text("refusal", language), "refusal", []
        text, numbers = extractive_answer(question, passages, language, prompts.text("extractive_intro", language))
        return text, "extractive", numbers

    def _judge(self, text: str, passages: Sequence[Passage], language: str, question: str = "") -> _Draft:
        text = drop_stray_citations(drop_source_remark(text.strip()), len(passages))
        if not re.search(r"[^\W\d_]", strip_citations(text)):  # nothing, or only source numbers: "[1] [2]"
            return _Draft(text, (EmptyAnswer(),))
        if is_refusal(text, language):
            return _Draft(text, ())
        # Facts must stand in the passages the answer cites; an answer without markers is held to all of them.
        cited = [n for n in cited_indices(text) if 1 <= n <= len(passages)]
        chosen = [passages[n - 1] for n in cited] or list(passages)
        result = check_answer(
            text, _evidence(chosen), language, detect_language, n_sources=len(passages), question=question
        )
        denial = unsupported_denial(text, _evidence(chosen))
        problems = (*result.problems, *([UnsupportedDenial(denial)] if denial else []))
        if cited and result.unsupported and len(result.unsupported) == len(problems):
            recited = self._recite(text, passages, cited, language)
            return recited or _Draft(text, problems)
        return _Draft(text, problems)

    @staticmethod
    def _recite(text: str, passages: Sequence[Passage], cited: list[int], language: str) -> _Draft | None:
        """A fact the model took from another passage than the one it cited (a small model often cites [1] for
        everything): when other passages it was given hold every missing fact, they are cited too."""
        numbers, left = _covering(text, passages, cited, language)
        if left:
            return None
        added = "".join(f"[{n}]" for n in numbers if n not in cited)
        return _Draft(f"{text.rstrip()} {added}", ())

    def _echoes(
        self,
        question: str,
        passages: Sequence[Passage],
        texts: Sequence[str],
        language: str,
        messages: Sequence[Message],
        topic: str | None,
    ) -> list[str]:
        """The question's words that the answer should not take over (``echoed_words``); none unless every
        passage is in the answer's language: a word of an English question that the English passages lack may be
        the translation of one in a German passage beside them ("small company" for „kleines Unternehmen")."""
        if not self.settings.llm_echo_penalty or any(p.chunk.language != language for p in passages):
            return []
        sources = [f"{p.chunk.title} {p.chunk.organisation} {t}" for p, t in zip(passages, texts, strict=True)]
        return echoed_words(question, sources, " ".join([messages[0].content, topic or ""]))

    def _retry(
        self, messages: list[Message], first: _Draft, language: str, passages: Sequence[Passage], question: str = ""
    ) -> _Draft:
        stricter = prompts.render(
            "stricter", language, problems=describe_all(first.problems), refusal=prompts.text("refusal", language)
        )
        retry_messages = [*messages, Message("assistant", first.text), Message("user", stricter)]
        text = "".join(self.chat.stream(retry_messages, self.settings.llm_max_tokens, 0.0)) if self.chat else ""
        return self._judge(text, passages, language, question)

    @classmethod
    def _with_citations(cls, text: str, passages: Sequence[Passage], language: str) -> tuple[str, list[int]]:
        """The answer with its source numbers; an answer the model left without markers gets those of the
        passages that hold its facts, and one that cites a passage sharing few of its words the passage that shares
        the most (see ``_word_source``), appended (and streamed as the last piece)."""
        numbers = cls._cited(text, passages, language)
        added = _word_source(text, passages, numbers) if cited_indices(text) else numbers
        if not added:
            return text, numbers
        suffix = " " + "".join(f"[{n}]" for n in added)
        return text.rstrip() + suffix, [*numbers, *(n for n in added if n not in numbers)]

    @staticmethod
    def _cited(text: str, passages: Sequence[Passage], language: str) -> list[int]:
        """The passages the answer cites. Without markers: those that share the most words with it, then, while
        a number or name of the answer stands in none of them, the passage that holds the most of those left
        (an uncited answer was checked against all its passages, so every fact stands in one of them)."""
        numbers = [n for n in cited_indices(text) if 1 <= n <= len(passages)]
        if numbers:
            return numbers
        overlap = _shared_words(text, passages)
        best = max(overlap, default=0)
        if not best:
            return []
        numbers = [i + 1 for i, o in enumerate(overlap) if o >= 0.6 * best]
        return _covering(text, passages, numbers, language, overlap)[0]

    def _slot(self) -> _Slot:
        return _Slot(self)


class _NothingToAnswerFrom(Exception):
    """Every sentence of the pool only says what the materials do not know (or the pool is empty)."""


class _Slot:
    """One generation at a time per process; the others wait here (the queue a UI can show)."""

    def __init__(self, owner: Answerer) -> None:
        self.owner = owner

    def __enter__(self) -> None:
        with self.owner._waiting_lock:
            self.owner._waiting += 1
        self.owner._lock.acquire()
        with self.owner._waiting_lock:
            self.owner._waiting -= 1

    def __exit__(self, *exc: object) -> None:
        self.owner._lock.release()


def _covering(
    text: str, passages: Sequence[Passage], numbers: Sequence[int], language: str, preference: Sequence[int] = ()
) -> tuple[list[int], int]:
    """``numbers``, and, while a name or number of the answer stands in none of their passages, the passage that
    holds the most of those left (ties: the higher ``preference``, then the better rank). Returns the sorted
    numbers and how many names and numbers stand in none of them."""
    chosen = sorted(numbers)

    def missing(candidate: Sequence[int]) -> int:
        evidence = _evidence([passages[n - 1] for n in sorted(candidate)])
        return len(check_answer(text, evidence, language, detect_language).unsupported)

    left = missing(chosen)
    while left:
        gains = {n: left - missing([*chosen, n]) for n in range(1, len(passages) + 1) if n not in chosen}
        best = max(gains, key=lambda n: (gains[n], preference[n - 1] if preference else 0, -n), default=None)
        if best is None or gains[best] <= 0:
            break
        chosen = sorted([*chosen, best])
        left -= gains[best]
    return chosen, left


def _shared_words(text: str, passages: Sequence[Passage]) -> list[int]:
    """How many word stems of the answer (its citation markers aside) each passage holds."""
    words = set(tokenize(strip_citations(text)))
    return [len(words & set(tokenize(p.chunk.text))) for p in passages]


WORDS_AHEAD = 2  # see _word_source


def _word_source(text: str, passages: Sequence[Passage], cited: Sequence[int]) -> list[int]:
    """[the number of the passage that shares the most words with the answer], when the answer does not cite it
    and it shares at least ``WORDS_AHEAD`` more than every passage cited; else []. A small model often cites [1]
    for what it took from another passage ("Firm X builds quick-change and connection systems [1]" under the
    passage that names firm X's managing partner); names and numbers are re-cited by the check, this catches the
    claims made of common words, so that the sources shown hold what the answer says."""
    if not cited or not passages:
        return []
    shared = _shared_words(text, passages)
    best = max(range(len(passages)), key=lambda i: (shared[i], -i)) + 1
    if best in cited or shared[best - 1] < max(shared[n - 1] for n in cited) + WORDS_AHEAD:
        return []
    return [best]


def _evidence(passages: Sequence[Passage]) -> list[str]:
    return [f"{p.chunk.title}\n{p.chunk.organisation}\n{p.chunk.text}" for p in passages]


def _invented(problems: Sequence[Problem]) -> bool:
    """The draft states facts the passages do not hold. Not decided for a draft in the wrong language: there every
    capitalised German noun looks like a name to the check."""
    if any(isinstance(p, WrongLanguage) for p in problems):
        return False
    return any(p.fact for p in problems)


def _declined(question: str) -> tuple[str, str] | None:
    """(the prompts key of the reply, the reason) for a question the assistant declines before retrieval."""
    if asks_for_private_data(question):
        return "private_data", "the question asks for a person's private contact details"
    if out_of_scope(question):
        return "out_of_scope", "not a question about the materials (orders, writing, translating, weather or abuse)"
    return None


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)
