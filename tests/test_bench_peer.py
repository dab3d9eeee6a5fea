"""The peer benchmark's LangChain chain, wired as the benchmark wires it, on fakes: a tiny knowledge folder, hash
embeddings and a scripted chat model, so no model is loaded."""

from __future__ import annotations

from pathlib import Path

from langchain_core.embeddings import DeterministicFakeEmbedding
from langchain_core.language_models import GenericFakeChatModel
from langchain_core.messages import AIMessage

from assistant.evaluation.answers import score_item
from assistant.evaluation.dataset import Item
from evals.bench_peer import build_peer, peer_answer, peer_refused

from .conftest import FAIR_EN, GRIP_DE

ANSWER = "Hasan Canti leitet die GRIP GmbH."


def _knowledge(tmp_path: Path) -> Path:
    knowledge = tmp_path / "knowledge"
    (knowledge / "organisations").mkdir(parents=True)
    (knowledge / "organisations" / "grip.de.md").write_text(GRIP_DE, encoding="utf-8")
    (knowledge / "imts.en.md").write_text(FAIR_EN, encoding="utf-8")
    (knowledge / "event.toml").write_text('name = "Not a document"\n', encoding="utf-8")
    return knowledge


def test_peer_chain_retrieves_into_the_prompt_and_streams_the_answer(tmp_path):
    llm = GenericFakeChatModel(messages=iter([AIMessage(content=ANSWER)]))
    peer = build_peer(_knowledge(tmp_path), tmp_path / "chroma", DeterministicFakeEmbedding(size=32), llm)

    assert peer.ingest["files"] == 2  # event.toml is not loaded
    assert peer.ingest["chunks"] >= 2
    reply = peer.ask("Wer leitet die GRIP GmbH?")

    assert reply.text == ANSWER
    assert reply.first_token_ms is not None and reply.first_token_ms <= reply.total_ms
    assert 1 <= len(reply.documents) <= 4
    assert "Hasan Canti" in "".join(d.page_content for d in reply.documents)  # both files fit in four chunks
    assert "You are an assistant for question-answering tasks." in reply.prompt
    assert "Answer in the language of the question." in reply.prompt
    assert "Question: Wer leitet die GRIP GmbH?" in reply.prompt
    for doc in reply.documents:
        assert doc.page_content in reply.prompt
    assert 'name = "Not a document"' not in reply.prompt

    item = Item("grip-lead", "Wer leitet die GRIP GmbH?", "de", "answerable", "de", ("grip",), (("Canti",),))
    answer = peer_answer(item, reply, "fake")
    result = score_item(item, answer, [d.page_content for d in reply.documents])
    assert (answer.route, answer.refused, answer.sources) == ("llm", False, ())
    assert result.correct and result.faithful_strict and result.language_ok


def test_peer_refusal_is_its_own_dont_know_or_the_products_sentence():
    assert peer_refused("I don't know.", "en")
    assert peer_refused("I do not know the answer to that.", "en")
    assert peer_refused("Ich weiß es nicht.", "de")
    assert peer_refused("The context does not provide the number of employees.", "en")
    assert peer_refused("That is not in my materials. Please ask the booth staff or the organiser.", "en")
    assert not peer_refused(ANSWER, "de")
    assert not peer_refused("I don't know " + "the exact figure, but GRIP had about 40 staff in 2021. " * 4, "en")
