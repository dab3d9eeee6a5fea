"""The kiosk's and the widget's suggested questions (the event profile's) against the real knowledge base (real
embedder). Slow."""

from __future__ import annotations

import pytest

from assistant.answering import Answerer
from assistant.app import Assistant

pytestmark = pytest.mark.slow

# What each suggestion is about, in order: the document that must be among the passages found for it.
EXPECTED = (
    "dortmund-delegation-imts-2024",
    "imts-2024",
    "grip",
    "dortmunder-business-empfang",
    "bvb-new-york",
    "fraunhofer",
)


@pytest.mark.parametrize("language", ["de", "en"])
def test_every_suggested_question_finds_its_document_and_gets_an_answer(real: Assistant, language: str) -> None:
    quoted = Answerer(real.retriever, None, real.settings, real.event)  # quoted answers: no chat model needed
    suggestions = real.event.questions(language)  # knowledge/event.toml's, read by build_assistant
    assert len(suggestions) == len(EXPECTED)
    for question, doc_id in zip(suggestions, EXPECTED, strict=True):
        found = [p.chunk.doc_id for p in real.search(question, k=5)]
        assert doc_id in found, (question, found)
        answer = quoted.ask(question, language=language)
        assert not answer.refused and answer.sources, (question, answer.answer)
