"""Contract tests: the knowledge base and the answer pipeline driven through LangChain's own interfaces."""

from __future__ import annotations

import asyncio
import functools
import operator
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
import yaml
from langchain_core.documents import Document
from langchain_core.messages import AIMessage, HumanMessage
from langchain_core.runnables import RunnableLambda, RunnablePassthrough

from assistant import prompts
from assistant.app import Assistant, build_assistant
from assistant.chat_models import FakeChatModel, Message
from assistant.embedders import FakeEmbedder
from assistant.integrations.langchain import (
    AnswerChunk,
    AnswerRunnable,
    KnowledgeBaseRetriever,
    ingest_documents,
)
from assistant.settings import Settings
from assistant.types import Answer

from .conftest import BVB_EN, FAIR_EN, GRIP_DE, ROOT, source_number


def lc_document(markdown: str, source: str) -> Document:
    """A test corpus file as a LangChain loader would hand it over: the text, and the metadata beside it."""
    _, front, body = markdown.split("---\n", 2)
    meta = yaml.safe_load(front)
    metadata = {"source": source, "title": meta["title"], "organisation": meta["name"], "language": meta["language"]}
    return Document(page_content=body, metadata={**metadata, "id": meta["id"], "kind": meta["kind"]})


def corpus_documents() -> list[Document]:
    return [
        lc_document(GRIP_DE, "https://example.org/grip"),
        lc_document(FAIR_EN, "imts-2024.md"),
        lc_document(BVB_EN, "bvb-new-york.md"),
    ]


def lingenhoff(messages: Sequence[Message]) -> str:
    return f"Marc Lingenhoff leads the New York office [{source_number(messages, 'Lingenhoff')}]."


def knowledge_base(settings: Settings, replies: Sequence[Any] = (lingenhoff,)) -> tuple[Assistant, FakeChatModel]:
    chat = FakeChatModel(list(replies))
    assistant = build_assistant(settings, embedder=FakeEmbedder(), chat=chat)
    ingest_documents(assistant, corpus_documents())
    return assistant, chat


@pytest.fixture
def kb(settings: Settings) -> Assistant:
    return knowledge_base(settings)[0]


QUESTION = "Who leads BVB's New York office?"


# --- the retriever ----------------------------------------------------------------------------------------------


def test_the_retriever_returns_our_hybrid_ranking_with_the_passages_metadata(kb: Assistant) -> None:
    docs = KnowledgeBaseRetriever(assistant=kb).invoke(QUESTION)
    assert [d.id for d in docs] == [p.chunk.id for p in kb.search(QUESTION)]
    top = docs[0]
    assert "Marc Lingenhoff" in top.page_content
    assert {key: top.metadata[key] for key in ("title", "organisation", "language", "section", "rank")} == {
        "title": "BVB in New York",
        "organisation": "Borussia Dortmund New York office",
        "language": "en",
        "section": "Opening",
        "rank": 1,
    }
    assert top.metadata["chunk_id"] == top.id and top.metadata["document"] == "bvb-new-york.md"
    assert top.metadata["score"] > docs[-1].metadata["score"]


def test_the_retriever_filters_by_document_language_and_takes_k_at_construction_or_per_call(kb: Assistant) -> None:
    german = KnowledgeBaseRetriever(assistant=kb, language="de").invoke(QUESTION)
    assert german and {d.metadata["language"] for d in german} == {"de"}
    assert {d.metadata["language"] for d in KnowledgeBaseRetriever(assistant=kb).invoke(QUESTION, language="en")} == {
        "en"
    }
    assert len(KnowledgeBaseRetriever(assistant=kb, k=2).invoke(QUESTION)) == 2
    assert len(KnowledgeBaseRetriever(assistant=kb, k=2).invoke(QUESTION, k=1)) == 1


def test_the_retriever_batches_and_runs_async(kb: Assistant) -> None:
    retriever = KnowledgeBaseRetriever(assistant=kb, k=1)
    first, second = retriever.batch([QUESTION, "When was IMTS first held?"])
    assert "Lingenhoff" in first[0].page_content and "1927" in second[0].page_content
    docs = asyncio.run(retriever.ainvoke("When was IMTS first held?", language="en"))
    assert [d.id for d in docs] == [d.id for d in second]


def test_the_retriever_feeds_an_lcel_chain(kb: Assistant) -> None:
    def format_docs(docs: list[Document]) -> str:
        return "\n".join(f"[{d.metadata['rank']}] {d.metadata['title']}: {d.page_content}" for d in docs)

    context = KnowledgeBaseRetriever(assistant=kb, k=2) | format_docs
    chain = {"context": context, "question": RunnablePassthrough()} | RunnableLambda(
        lambda x: f"Q: {x['question']}\n{x['context']}"
    )
    text = chain.invoke(QUESTION)
    assert text.startswith(f"Q: {QUESTION}\n[1] BVB in New York: ") and "[2]" in text
    assert "".join(chain.stream(QUESTION)) == text


def test_the_retriever_refuses_what_is_not_an_assistant() -> None:
    with pytest.raises(ValueError, match="build_assistant"):
        KnowledgeBaseRetriever(assistant=object())


# --- the answer pipeline ----------------------------------------------------------------------------------------


def test_the_runnable_answers_a_string_or_a_dict_with_history_and_language(settings: Settings) -> None:
    assistant, chat = knowledge_base(settings)
    runnable = AnswerRunnable(assistant=assistant)
    answer = runnable.invoke(QUESTION)
    assert isinstance(answer, Answer) and answer.route == "llm"
    assert answer.answer.startswith("Marc Lingenhoff") and answer.sources[0].document == "bvb-new-york.md"

    history = [HumanMessage("Who leads BVB's New York office?"), AIMessage("Marc Lingenhoff [1].")]
    follow_up = runnable.invoke({"question": "Und wer leitet es?", "history": history, "language": "en"})
    assert follow_up.language == "en" and "Answer in English" in chat.calls[-1][0].content
    assert "The question is about: Borussia Dortmund New York office" in chat.calls[-1][-1].content
    as_dicts = [{"role": "user", "content": "Who leads BVB's New York office?"}, {"role": "assistant", "content": "M."}]
    assert runnable.invoke({"question": "Und wer leitet es?", "history": as_dicts}).language == "de"


def test_the_runnable_says_what_input_it_takes(kb: Assistant) -> None:
    runnable = AnswerRunnable(assistant=kb)
    with pytest.raises(ValueError, match='"question"'):
        runnable.invoke({"query": QUESTION})  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="role"):
        runnable.invoke({"question": QUESTION, "history": [{"role": "system", "content": "be rude"}]})


def test_streaming_yields_the_tokens_then_the_answer_and_adds_up_to_what_invoke_returns(kb: Assistant) -> None:
    runnable = AnswerRunnable(assistant=kb)
    chunks = list(runnable.stream(QUESTION))
    *pieces, last = chunks
    assert len(pieces) > 3 and all(isinstance(c, AnswerChunk) and not c.replace for c in pieces)
    assert isinstance(last, Answer) and "".join(c.text for c in pieces).strip() == last.answer
    assert functools.reduce(operator.add, chunks) == last
    assert functools.reduce(operator.add, pieces).text.strip() == last.answer  # what a screen shows meanwhile
    assert runnable.invoke(QUESTION).answer == last.answer


def test_a_checked_answer_replacing_the_draft_is_a_replace_chunk(settings: Settings) -> None:
    invented = ["The fair had 120,000 visitors [1].", "It had 130,000 visitors [1]."]
    assistant, _ = knowledge_base(settings, invented)
    *pieces, last = AnswerRunnable(assistant=assistant).stream("How many registrants did IMTS 2024 have?")
    replaced = [c for c in pieces if isinstance(c, AnswerChunk) and c.replace]
    assert replaced and replaced[-1].text == last.answer == prompts.text("refusal", "en")
    assert "120,000" in replaced[-1].reason
    shown = functools.reduce(operator.add, pieces)
    assert isinstance(shown, AnswerChunk) and shown.text == last.answer and "120,000" not in shown.text


def test_the_runnable_batches_and_runs_async(settings: Settings) -> None:
    def imts(messages: Sequence[Message]) -> str:
        return f"IMTS was first held in Cleveland in 1927 [{source_number(messages, '1927')}]."

    assistant, _ = knowledge_base(settings, [lingenhoff, imts])
    runnable = AnswerRunnable(assistant=assistant)
    first, second = runnable.batch([QUESTION, "When was IMTS first held?"], {"max_concurrency": 1})
    assert "Lingenhoff" in first.answer and "1927" in second.answer

    async def both() -> tuple[Answer, list[Any]]:
        return await runnable.ainvoke("When was IMTS first held?"), [c async for c in runnable.astream(QUESTION)]

    answer, chunks = asyncio.run(both())
    assert "1927" in answer.answer
    assert isinstance(chunks[-1], Answer) and "".join(c.text for c in chunks[:-1]).strip() == chunks[-1].answer


def test_the_runnable_sits_in_an_lcel_chain_invoked_or_streamed(kb: Assistant) -> None:
    chain = (
        RunnableLambda(lambda q: {"question": q, "language": "en"})
        | AnswerRunnable(assistant=kb)
        | RunnableLambda(lambda answer: f"{answer.answer} ({answer.sources[0].title})")
    )
    expected = chain.invoke(QUESTION)
    assert expected.startswith("Marc Lingenhoff") and expected.endswith("(BVB in New York)")
    assert list(chain.stream(QUESTION)) == [expected]  # the step after the stream receives the Answer


# --- ingestion of LangChain documents ---------------------------------------------------------------------------


def test_ingesting_the_same_documents_again_embeds_nothing(kb: Assistant) -> None:
    generation = kb.store.generation()
    report = ingest_documents(kb, corpus_documents())
    assert (report.chunks_embedded, report.published, len(report.unchanged)) == (0, False, 3)
    assert kb.store.generation() == generation


def test_a_changed_document_is_chunked_anew_and_one_left_out_is_removed(kb: Assistant) -> None:
    docs = corpus_documents()
    changed = Document(page_content=docs[2].page_content.replace("16 years", "17 years"), metadata=docs[2].metadata)
    report = ingest_documents(kb, [docs[0], changed])
    assert (report.updated, report.removed, report.unchanged) == (
        ["bvb-new-york.md"],
        ["imts-2024.md"],
        [docs[0].metadata["source"]],
    )
    assert report.chunks_embedded == 1
    texts = [d.page_content for d in KnowledgeBaseRetriever(assistant=kb, k=5).invoke("IMTS 1927 Cleveland adidas")]
    assert not any("1927" in t for t in texts) and any("17 years" in t for t in texts)


def test_documents_are_chunked_as_files_are_and_leave_the_indexed_files_alone(
    settings: Settings, corpus: Path, tmp_path: Path
) -> None:
    from_files = build_assistant(settings, embedder=FakeEmbedder(), chat=None)
    from_files.ingest([corpus], progress=False)
    file_chunks = {(c.section, c.text, c.language) for c in from_files.store.chunks()}

    other = settings.model_copy(update={"index_dir": tmp_path / "other"})
    from_documents = build_assistant(other, embedder=FakeEmbedder(), chat=None)
    ingest_documents(from_documents, corpus_documents())
    assert {(c.section, c.text, c.language) for c in from_documents.store.chunks()} == file_chunks

    ingest_documents(from_files, [lc_document(FAIR_EN, "imts-copy.md")], namespace="web")
    report = from_files.ingest([corpus], progress=False)
    assert (len(report.unchanged), report.removed) == (3, [])  # the documents' namespace is not the folder's
    assert "imts-copy.md" in {c.document for c in from_files.store.chunks()}


def test_pages_that_share_a_source_are_one_document(kb: Assistant) -> None:
    pages = [
        Document(
            page_content="# Hall plan\n\nHall 3 holds the robotics exhibitors this year.",
            metadata={"source": "plan.pdf", "page": 0},
        ),
        Document(
            page_content="Hall 4 holds the machine tool exhibitors and the lecture stage.",
            metadata={"source": "plan.pdf", "page": 1},
        ),
    ]
    report = ingest_documents(kb, pages, namespace="pdf")
    assert report.added == ["plan.pdf"]
    hits = KnowledgeBaseRetriever(assistant=kb, k=5).invoke("Which hall has the lecture stage?")
    plan = [d for d in hits if d.metadata["document"] == "plan.pdf"]
    assert plan and {d.metadata["title"] for d in plan} == {"Hall plan"}
    assert ingest_documents(kb, corpus_documents()).unchanged  # the first namespace still stands beside it
    assert any(
        d.metadata["document"] == "plan.pdf"
        for d in KnowledgeBaseRetriever(assistant=kb, k=5).invoke("Which hall has the lecture stage?")
    )


# --- the example ------------------------------------------------------------------------------------------------


def test_the_example_runs_with_fakes(tmp_path: Path) -> None:
    env = {**os.environ, "ASSISTANT_CONFIG": str(tmp_path / "none.toml"), "PYTHONPATH": str(ROOT)}
    run = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "langchain_chain.py"), "--fake"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    assert "2 added" in run.stdout and "[1] Hall plan — Hall 3 holds the robotics exhibitors" in run.stdout
    assert "route: " in run.stdout and not list(tmp_path.iterdir())  # the index was temporary
