"""The assistant from LangChain: index two LangChain documents, retrieve with an LCEL chain, stream an answer.

    python examples/langchain_chain.py          # the configured models (`assistant models fetch` first)
    python examples/langchain_chain.py --fake   # fake embedder and scripted chat model: no models, for CI

The index lives in a temporary folder and is gone afterwards; your own index is not touched. docs/langchain.md
explains each piece.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from langchain_core.documents import Document
from langchain_core.runnables import RunnableLambda

from assistant.app import build_assistant
from assistant.integrations.langchain import AnswerChunk, AnswerRunnable, KnowledgeBaseRetriever, ingest_documents
from assistant.settings import Settings
from assistant.types import Answer

# What a LangChain loader (web pages, Confluence, CSV …) would hand over: text, and metadata beside it.
DOCUMENTS = [
    Document(
        page_content="# Hall plan\n\n## Halls\nHall 3 holds the robotics exhibitors. Hall 4 holds the machine tool "
        "exhibitors and the lecture stage, where the talks take place every hour from 10:00.",
        metadata={"source": "https://example.org/hall-plan", "title": "Hall plan", "language": "en"},
    ),
    Document(
        page_content="# Opening hours\n\n## Hours\nThe fair is open from 9:00 to 18:00 on all four days. On the last "
        "day the halls close at 16:00.",
        metadata={"source": "opening-hours.md", "title": "Opening hours", "language": "en"},
    ),
]
QUESTION = "Where is the lecture stage?"


def format_docs(docs: list[Document]) -> str:
    return "\n".join(f"[{d.metadata['rank']}] {d.metadata['title']} — {d.page_content}" for d in docs)


def show(chunk: AnswerChunk | Answer) -> None:
    """Print a streamed answer as a screen would show it: tokens as they come, a replaced draft withdrawn."""
    if isinstance(chunk, Answer):
        print(f"\n\nroute: {chunk.route}; sources: {', '.join(s.title for s in chunk.sources) or 'none'}")
    elif chunk.replace:
        print(f"\n[the draft is withdrawn: {chunk.reason}]\n{chunk.text}", end="")
    else:
        print(chunk.text, end="", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--fake", action="store_true", help="fake embedder and scripted chat model (no models)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        fakes = {"embedder": "fake", "llm_backend": "fake"} if args.fake else {}
        assistant = build_assistant(Settings(index_dir=Path(tmp) / "index", **fakes))
        print(ingest_documents(assistant, DOCUMENTS).summary())

        sources = KnowledgeBaseRetriever(assistant=assistant, k=2) | format_docs
        print(f"\nPassages for {QUESTION!r}:\n{sources.invoke(QUESTION)}\n")

        answer = RunnableLambda(lambda q: {"question": q, "language": "en"}) | AnswerRunnable(assistant=assistant)
        for chunk in answer.stream(QUESTION):
            show(chunk)
    return 0


if __name__ == "__main__":
    sys.exit(main())
