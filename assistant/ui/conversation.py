"""One visitor's conversation on a screen, and the loop that streams an answer into it.

The state lives in the visitor's gradio session only and is cleared by ``reset`` (the kiosk's idle timeout,
"New conversation"). Questions are never logged; errors are logged by their type and message only.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from ..app import Assistant
from ..errors import AssistantError, QuestionRejected
from ..questions import accepted_question, clean_question
from ..record import new_id
from ..types import DoneEvent, ReplaceEvent, TokenEvent, Turn
from .render import FEEDBACK_REASONS, Exchange
from .texts import Language, text

logger = logging.getLogger("assistant.ui")

HISTORY_TURNS = 6  # the last three questions and answers carry follow-ups


@dataclass
class Conversation:
    language: Language = "en"
    exchanges: list[Exchange] = field(default_factory=list)
    history: list[Turn] = field(default_factory=list)
    last_active: float = field(default_factory=time.monotonic)
    busy: bool = False
    epoch: int = 0  # bumped by every reset: an answer still streaming for the last visitor stops there
    record_id: str = field(default_factory=new_id)  # groups this visitor's follow-ups in the record; never shown
    answered: int = 0  # answers in this conversation so far: the record's turn number

    def touch(self, now: float | None = None) -> None:
        self.last_active = time.monotonic() if now is None else now

    def reset(self, language: Language | None = None) -> None:
        """Forget everything the visitor said and saw."""
        self.exchanges.clear()
        self.history.clear()
        self.busy = False
        self.epoch += 1
        self.record_id = new_id()  # the next visitor's questions are not linked to this one's
        self.answered = 0
        if language is not None:
            self.language = language
        self.touch()

    def note(self, question: str, message: str, language: Language) -> None:
        """Show a message in place of an answer (e.g. the rate limit) without asking anything."""
        self.exchanges.append(Exchange(clean_question(question)[:1000], language, answer=message, status="error"))
        self.touch()

    def idle_for(self, now: float | None = None) -> float:
        return (time.monotonic() if now is None else now) - self.last_active

    def expire(self, idle_s: float, now: float | None = None) -> bool:
        """Reset when nothing happened for ``idle_s`` seconds (the server-side guard behind the screen's timer)."""
        if self.busy or self.idle_for(now) < idle_s or not (self.exchanges or self.history):
            return False
        self.reset()
        return True


def stream_answer(
    assistant: Assistant,
    conversation: Conversation,
    question: str,
    language: Language | None,
    surface: str = "kiosk",
) -> Iterator[Exchange]:
    """Ask, and yield the exchange after every change: queued → thinking → streaming → done (or error).

    ``language`` forces the answer language (the kiosk's switch); ``None`` follows the question. Nothing is
    raised to the screen: a rejected question shows its polite message, any other failure a friendly one.
    ``surface`` (kiosk, widget) is what the record notes as where the question was asked.
    """
    shown_language = language or conversation.language
    exchange = Exchange(question=clean_question(question)[:1000], language=shown_language)  # no surrogate on screen
    if conversation.busy:
        return
    conversation.busy = True
    conversation.touch()
    epoch = conversation.epoch
    conversation.exchanges.append(exchange)
    try:
        accepted_question(question, assistant.settings.max_question_chars, shown_language)
        ahead = assistant.answers_ahead if assistant.answerer.chat is not None else 0
        if ahead:
            exchange.status, exchange.ahead = "queued", ahead
        yield exchange
        stale = lambda: conversation.epoch != epoch  # noqa: E731
        yield from _events(assistant, conversation, exchange, question, language, stale, surface)
    except QuestionRejected as exc:
        exchange.status, exchange.answer = "error", str(exc)
    except AssistantError as exc:
        logger.warning("answer failed: %s: %s", type(exc).__name__, exc)
        exchange.status, exchange.answer = "error", text("error", shown_language)
    except Exception as exc:
        logger.error("unexpected error while answering: %s", type(exc).__name__, exc_info=exc)
        exchange.status, exchange.answer = "error", text("error", shown_language)
    finally:
        if conversation.epoch == epoch:
            conversation.busy = False
            conversation.touch()
    if conversation.epoch == epoch:
        yield exchange


def _events(
    assistant: Assistant,
    conversation: Conversation,
    exchange: Exchange,
    question: str,
    language: Language | None,
    stale: Callable[[], bool],
    surface: str,
) -> Iterator[Exchange]:
    events = assistant.ask_stream(question, list(conversation.history), language)
    try:
        for event in events:
            if stale():
                return  # the conversation was cleared meanwhile: nothing goes into the next visitor's
            if isinstance(event, TokenEvent):
                exchange.status = "streaming"
                exchange.answer += event.text
            elif isinstance(event, ReplaceEvent):
                exchange.status = "streaming"
                exchange.answer = event.text
            elif isinstance(event, DoneEvent):
                answer = event.answer
                exchange.answer, exchange.sources = answer.answer, answer.sources
                exchange.language = "de" if answer.language == "de" else "en"
                exchange.status = "done"
                exchange.answer_id = assistant.record(answer, surface, conversation.record_id, conversation.answered)
                exchange.rateable = assistant.recorder is not None
                conversation.answered += 1
                turns = [Turn("user", answer.question), Turn("assistant", answer.answer)]
                conversation.history[:] = [*conversation.history, *turns][-HISTORY_TURNS:]
            yield exchange
    finally:
        close = getattr(events, "close", None)
        if close is not None:
            close()  # frees the generation slot when the visitor went away


def rate(assistant: Assistant, conversation: Conversation, payload: str) -> bool:
    """Store the visitor's thumbs (``"<exchange key>:<choice>"``, from the page) through the same path as
    ``POST /api/feedback``; True when stored.

    Only an exchange of this conversation can be rated: a press that arrives after the kiosk's idle reset names an
    exchange the new visitor's conversation does not have, and is dropped. A reason only follows a "down".
    """
    key, _, choice = payload.partition(":")
    exchange = next((ex for ex in conversation.exchanges if ex.key == key and ex.rateable), None)
    if exchange is None:
        return False
    if choice in ("up", "down"):
        rating, reason = choice, None
    elif choice in FEEDBACK_REASONS and exchange.rating == "down":
        rating, reason = "down", choice
    else:
        return False
    conversation.touch()
    if not assistant.rate(exchange.answer_id, rating, reason):
        logger.warning("a rating could not be stored")  # the database is down or the answer not recorded
        return False
    exchange.rating, exchange.reason = rating, reason
    return True
