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
from dataclasses import dataclass, replace

from . import prompts
from .chat_models import ChatBackendError, ChatModel, Message
from .citing import cited as cite_numbers
from .citing import evidence, recite, with_citations
from .errors import ConfigError, ModelNotAvailable
from .event import EventProfile, neutral
from .extractive import draft_quote, extractive_answer, slot_quote
from .focus import select_context
from .grounding import (
    check_answer,
    cited_indices,
    drop_repeated_sentences,
    drop_source_remark,
    drop_stray_citations,
    dropped_verb,
    echoed_words,
    scattered_sentences,
    strip_citations,
    unsupported_denial,
)
from .injection import GAP, carried_words, quoted_instructions
from .lang import SUPPORTED, detect_language
from .lang.resources import alternation, any_of, resources
from .policy import Repair, Stage, Verdict, classify, repair
from .problems import (
    CarriesQuestionWord,
    DroppedVerb,
    EmptyAnswer,
    MissingSlot,
    Problem,
    QuotesInstructions,
    ScatteredFacts,
    StaleFigure,
    UnheldCount,
    UnsupportedDenial,
    describe_all,
    slot_words,
)
from .questions import accepted_question, clean_question
from .retrieval import HybridRetriever, diversify, reciprocal_rank_fusion
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


def instruction_wording(language: str, settings: Settings, event: EventProfile) -> tuple[str, ...]:
    """The instructions the model may be given in ``language`` (the system message and the stricter retry prompt)
    as their templates word them: every filled-in value (the fair's facts, the refusal sentence, the problems of a
    draft) rendered as ``injection.GAP``. An answer may carry those values, never the wording around them (see
    ``injection.quoted_instructions``)."""
    facts = {key: GAP if value else "" for key, value in event.prompt_vars(language).items()}
    system = prompts.render("system", language, words=settings.answer_words, refusal=GAP, event=facts)
    stricter = prompts.render("stricter", language, problems=GAP, refusal=GAP)
    return system, stricter


@dataclass(frozen=True)
class _Told:
    """What the model was told besides the passages and the question: the instructions' own wording (see
    ``instruction_wording``) and the whole system message, whose words an answer may use."""

    wording: tuple[str, ...] = ()
    system: str = ""


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
    rules: tuple[str, ...] = ()  # the text rules of the check that changed it (see Answer.rules)


@dataclass(frozen=True)
class _Outcome:
    """What the visitor is shown in the end. ``replace``: the reason to withdraw what was streamed, or None when
    the streamed draft stands (then only what ``text`` adds to it is streamed)."""

    text: str
    route: str
    reason: str
    numbers: Sequence[int]
    replace: str | None
    rules: tuple[str, ...] = ()


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
        """understand → (decline) → retrieve → (known unknown) → choose context → generate → check → repair → cite.

        Each step that changes the answer names its rule in ``Answer.rules`` (the evaluation counts them)."""
        started = time.perf_counter()
        question, lang = checked_question(question, self.settings, language)
        query = question  # until retrieval: a declined question has no other, and no passages
        passages: list[Passage] = []
        timings: dict[str, float | None] = {"retrieve_ms": None, "first_token_ms": None, "total_ms": None}
        rules: list[str] = []

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
                    rules=tuple(dict.fromkeys(rules)),
                )
            )

        def at_once(text: str, route: str, reason: str, numbers: Sequence[int], rule: str) -> Iterator[AnswerEvent]:
            """An answer decided without the model: shown whole, as its first token."""
            rules.append(rule)
            timings["first_token_ms"] = _ms(started)
            yield TokenEvent(text)
            yield finish(text, route, reason, numbers)

        declined = _declined(question)
        if declined is not None:
            key, reason, rule = declined
            yield from at_once(
                prompts.render(key, lang, event=self.event.prompt_vars(lang)), "refusal", reason, (), rule
            )
            return
        query, previous = standalone_question(question, history, lang, self.settings.max_question_chars)
        passages = self._retrieve(question, query, previous)
        timings["retrieve_ms"] = _ms(started)

        refusal = prompts.text("refusal", lang)
        slot = asked_slot(question)
        if passages and from_unknowns(passages[0]):
            # The organisers wrote down that this is not known: say so, in the question's language.
            reason = "the best passage lists this as not known"
            yield from at_once(refusal, "refusal", reason, (), "known-unknown")
            return

        if self.chat is None:
            passages = passages[: self.settings.context_passages]
            text, route, numbers, reason = self._fit_quote(question, slot, passages, lang, "")
            yield from at_once(text, route, reason or "no chat model configured", numbers, "quote-without-model")
            return

        # Planted instructions never reach the model; nor does what the materials say is not known (see
        # select_context).
        context = [p for p in passages if not looks_like_injection(p.chunk.text)]
        if len(context) < len(passages):
            rules.append("drop-planted-instructions")
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
                if avoid:
                    rules.append("echo-penalty")
                for piece in self.chat.stream(
                    messages, self.settings.llm_max_tokens, self.settings.llm_temperature, avoid=avoid
                ):
                    if timings["first_token_ms"] is None:
                        timings["first_token_ms"] = _ms(started)
                    streamed.append(piece)
                    yield TokenEvent(piece)
                outcome = self._settle("".join(streamed), messages, lang, passages, question, slot)
        except _NothingToAnswerFrom:
            yield from at_once(refusal, "refusal", "no passage fit to answer from", (), "nothing-to-answer-from")
            return
        except (ChatBackendError, ModelNotAvailable, ConfigError) as exc:
            text, route, numbers = self._quoted(question, passages, lang)
            text = f"{text} {prompts.text('backend_down_note', lang)}"
            rules.append("quote-backend-down")
            if timings["first_token_ms"] is None:
                timings["first_token_ms"] = _ms(started)
            yield ReplaceEvent(text, f"chat backend failed: {exc}") if streamed else TokenEvent(text)
            yield finish(text, route, f"chat backend failed: {exc}", numbers)
            return

        rules.extend(outcome.rules)
        shown = "".join(streamed).strip()
        if outcome.replace is not None:
            yield ReplaceEvent(outcome.text, outcome.replace)
        elif not outcome.text.startswith(shown):
            yield ReplaceEvent(outcome.text, "source numbers corrected")
        elif outcome.text[len(shown) :]:  # only source numbers were added: they stream as the last piece
            yield TokenEvent(outcome.text[len(shown) :])
        yield finish(outcome.text, outcome.route, outcome.reason, outcome.numbers)

    # -- check and repair (see ``policy``) -----------------------------------------------------------------
    def _settle(
        self,
        text: str,
        messages: list[Message],
        language: str,
        passages: Sequence[Passage],
        question: str,
        slot: str | None,
    ) -> _Outcome:
        """The checked first draft, repaired as ``policy.POLICY`` says; a retry asks the model once more."""
        told = _Told(instruction_wording(language, self.settings, self.event), messages[0].content)
        verdict, first = self._verdict(
            self._judge(text, passages, language, question, told), Stage.FIRST, language, passages, question, slot
        )
        action = repair(Stage.FIRST, verdict)
        if action is not Repair.RETRY:
            return self._carry_out(action, first, Stage.FIRST, "", language, passages, question, slot)
        reason = "first draft failed the check: " + describe_all(first.problems)
        second = self._retry(messages, first, language, passages, question, told)
        verdict, second = self._verdict(second, Stage.SECOND, language, passages, question, slot)
        outcome = self._carry_out(
            repair(Stage.SECOND, verdict), second, Stage.SECOND, reason, language, passages, question, slot
        )
        return replace(outcome, rules=(*first.rules, *_check_rules(first.problems), "retry", *outcome.rules))

    def _verdict(
        self, draft: _Draft, stage: Stage, language: str, passages: Sequence[Passage], question: str, slot: str | None
    ) -> tuple[Verdict, _Draft]:
        """The draft's verdict, and the draft with what made it unfit or garbled as its problem (the repair reads it
        there, so nothing is checked twice)."""
        refused = is_refusal(draft.text, language)
        unfit = None if draft.problems or refused else self._unfit(draft.text, question, slot, passages)
        verb = None
        if stage is Stage.FIRST and not refused and not draft.problems and unfit is None:
            verb = dropped_verb(question, draft.text, language)
        verdict = classify(refused, draft.problems, unfit, verb is not None)
        found = unfit if verdict is Verdict.UNFIT else DroppedVerb(verb) if verb is not None else None
        return verdict, (_Draft(draft.text, (found,), draft.rules) if found is not None else draft)

    def _carry_out(
        self,
        action: Repair,
        draft: _Draft,
        stage: Stage,
        reason: str,
        language: str,
        passages: Sequence[Passage],
        question: str,
        slot: str | None,
    ) -> _Outcome:
        """``action`` done to ``draft``; ``reason`` says why the first draft gave way (empty for the first)."""
        refusal = prompts.text("refusal", language)
        rules = draft.rules
        if action is Repair.REFUSE:
            if stage is Stage.FIRST:
                replaced = "refusal sentence normalised" if draft.text.strip() != refusal else None
                normalised = ("normalise-refusal",) if replaced else ()
                reason = "the passages do not answer the question"
                return _Outcome(refusal, "refusal", reason, (), replaced, normalised)
            why = "; the second draft refused" if not draft.problems else "; second draft failed too: "
            full = reason + (why if not draft.problems else why + describe_all(draft.problems))
            replaced = reason if not draft.problems else full
            return _Outcome(refusal, "refusal", full, (), replaced, _check_rules(draft.problems))
        if action is Repair.CITE:
            text, numbers, cite_rules = with_citations(draft.text, passages, language)
            if stage is Stage.FIRST:
                return _Outcome(text, "llm", "check passed", numbers, None, (*rules, *cite_rules))
            return _Outcome(text, "retried", reason, numbers, reason, (*rules, *cite_rules))
        if action is Repair.QUOTE_SLOT:
            why = describe_all(draft.problems) if stage is Stage.FIRST else f"{reason}; {describe_all(draft.problems)}"
            text, route, numbers, why = self._instead(question, slot, passages, language, why)
            return _Outcome(text, route, why, numbers, why, (*_check_rules(draft.problems), f"{action.value}:{route}"))
        if action is Repair.QUOTE_DRAFT:
            return self._quote_draft(draft, language, passages, question, slot)
        # Repair.QUOTE_PASSAGES: right facts in the wrong form, twice
        why = reason + "; second draft failed too: " + describe_all(draft.problems)
        text, route, numbers, why = self._fit_quote(question, slot, passages, language, why)
        return _Outcome(text, route, why, numbers, why, (*_check_rules(draft.problems), f"{action.value}:{route}"))

    def _quote_draft(
        self, draft: _Draft, language: str, passages: Sequence[Passage], question: str, slot: str | None
    ) -> _Outcome:
        """A garbled sentence (see ``grounding.dropped_verb``): what it meant, quoted from its sources; where no
        quote in the answer's language gives it, or the quote is no answer (``_unfit``), the draft as written."""
        reason = "first draft failed the check: " + describe_all(draft.problems)
        intro = prompts.text("extractive_intro", language)
        quote = draft_quote(draft.text, passages, cite_numbers(draft.text, passages, language), language, intro)
        if quote is not None and self._unfit(quote[0], question, slot, passages) is None:
            reason += "; quoted what it says"
            return _Outcome(
                quote[0], "extractive", reason, quote[1], reason, (*_check_rules(draft.problems), "quote-draft")
            )
        text, numbers, cite_rules = with_citations(draft.text, passages, language)
        if quote is None:
            reason += "; no quote in the answer's language gives its facts; shown as written"
        else:
            reason += "; the quote of what it says is no answer to the question; shown as written"
        rules = (*draft.rules, *_check_rules(draft.problems), "garbled-as-written", *cite_rules)
        return _Outcome(text, "llm", reason, numbers, reason, rules)

    # -- steps -----------------------------------------------------------------------------------------
    def _unfit(self, text: str, question: str, slot: str | None, passages: Sequence[Passage]) -> Problem | None:
        """Why a checked answer still does not answer the question, or None: it lacks the kind of value asked
        for, or it gives a figure for "today" that the materials date years before (a firm's "about 40" staff
        of December 2021 is no answer to "How many people work at the firm today?")."""
        sources = [p.chunk.text for p in passages]
        if not fills_slot(text, slot, question, sources):
            return UnheldCount(slot) if fills_slot(text, slot, question) else MissingSlot(slot)
        if slot == "number" and asks_about_now(question):
            year = dated_figure(text, sources, self.event.present_year())
            if year is not None:
                return StaleFigure(year)
        return None

    def _fit_quote(
        self, question: str, slot: str | None, passages: Sequence[Passage], language: str, why: str
    ) -> tuple[str, str, list[int], str]:
        """(text, route, source numbers, reason) of the quoted answer, held to the same fitness as a draft (the value
        asked for, a count the passages hold, not years old for "today"): a quote is an answer too. Where it is unfit,
        what ``_instead`` shows, with the reason added to ``why``."""
        text, route, numbers = self._quoted(question, passages, language)
        unfit = self._unfit(text, question, slot, passages) if route != "refusal" else None
        if unfit is None:
            return text, route, numbers, why
        return self._instead(
            question, slot, passages, language, f"{why}; {unfit.describe()}" if why else unfit.describe()
        )

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
        by_id: dict[str, Passage] = {}
        for p in [*combined, *alone]:
            by_id.setdefault(p.chunk.id, p)
        rankings = [[p.chunk.id for p in ranking] for ranking in (combined, alone)]
        order = [by_id[cid] for cid in reciprocal_rank_fusion(rankings, [1, 1], self.settings.rrf_k)]
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

    def _judge(
        self, text: str, passages: Sequence[Passage], language: str, question: str = "", told: _Told | None = None
    ) -> _Draft:
        """The draft's problems, after the text rules that tidy it (each named in the draft's ``rules`` when it
        changed the text): a closing remark about the sources dropped, markers that point to no passage dropped,
        and a fact taken from another passage than the cited one cited too. ``told``: what the model was told, for
        the checks that it neither recites its instructions nor obeys the question (see ``_obeyed``)."""
        raw = text.strip()
        once = drop_repeated_sentences(raw)
        remarked = drop_source_remark(once)
        text = drop_stray_citations(remarked, len(passages))
        rules = (
            *(("drop-repeats",) if once != raw else ()),
            *(("drop-source-remark",) if remarked != once else ()),
            *(("drop-stray-citations",) if text != remarked else ()),
        )
        if not re.search(r"[^\W\d_]", strip_citations(text)):  # nothing, or only source numbers: "[1] [2]"
            return _Draft(text, (EmptyAnswer(),), rules)
        if is_refusal(text, language):
            return _Draft(text, (), rules)
        # Facts must stand in the passages the answer cites; an answer without markers is held to all of them.
        cited = [n for n in cited_indices(text) if 1 <= n <= len(passages)]
        chosen = [passages[n - 1] for n in cited] or list(passages)
        result = check_answer(
            text,
            evidence(chosen),
            language,
            detect_language,
            n_sources=len(passages),
            question=question,
            passage_languages=[p.chunk.language for p in chosen],
        )
        denial = unsupported_denial(text, evidence(chosen))
        problems = (
            *result.problems,
            *([UnsupportedDenial(denial)] if denial else []),
            *self._obeyed(text, passages, question, told or _Told()),
        )
        if cited and result.unsupported and len(result.unsupported) == len(problems):
            recited = recite(text, passages, cited, language)
            if recited is not None:
                # every fact now stands in a cited passage; a statement must still have one passage for all its facts
                now = [passages[n - 1] for n in cited_indices(recited) if 1 <= n <= len(passages)]
                languages = [p.chunk.language for p in now]
                scattered = scattered_sentences(recited, evidence(now), language, languages)
                text, problems, rules = recited, tuple(ScatteredFacts(s) for s in scattered), (*rules, "recite")
        return _Draft(text, problems, rules)

    @staticmethod
    def _obeyed(text: str, passages: Sequence[Passage], question: str, told: _Told) -> list[Problem]:
        """Signs that the draft followed the visitor or recited its instructions instead of answering from the
        passages, whatever words the attack used (``injection``): a run of the instructions' wording, and the words
        the visitor dictated that no passage holds. All passages the model was given count, cited or not."""
        sources = [f"{p.chunk.title} {p.chunk.organisation} {p.chunk.text}" for p in passages]
        problems: list[Problem] = []
        if quoted_instructions(text, told.wording, sources) is not None:
            problems.append(QuotesInstructions())
        problems.extend(CarriesQuestionWord(w) for w in carried_words(text, question, sources, told.system))
        return problems

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
        self,
        messages: list[Message],
        first: _Draft,
        language: str,
        passages: Sequence[Passage],
        question: str = "",
        told: _Told | None = None,
    ) -> _Draft:
        stricter = prompts.render(
            "stricter", language, problems=describe_all(first.problems), refusal=prompts.text("refusal", language)
        )
        retry_messages = [*messages, Message("assistant", first.text), Message("user", stricter)]
        text = "".join(self.chat.stream(retry_messages, self.settings.llm_max_tokens, 0.0)) if self.chat else ""
        return self._judge(text, passages, language, question, told)

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


def _check_rules(problems: Sequence[Problem]) -> tuple[str, ...]:
    """The census names of the checks that found ``problems`` ("check:UnsupportedNumber")."""
    return tuple(f"check:{type(p).__name__}" for p in problems)


def _declined(question: str) -> tuple[str, str, str] | None:
    """(the prompts key of the reply, the reason, the rule) for a question declined before retrieval."""
    if asks_for_private_data(question):
        return "private_data", "the question asks for a person's private contact details", "decline-private-data"
    if out_of_scope(question):
        reason = "not a question about the materials (orders, writing, translating, weather or abuse)"
        return "out_of_scope", reason, "decline-out-of-scope"
    return None


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)
