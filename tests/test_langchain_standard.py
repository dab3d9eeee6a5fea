"""LangChain's own standard tests for retrievers (``langchain-tests``), run against ``KnowledgeBaseRetriever``."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_tests.integration_tests import RetrieversIntegrationTests

from assistant.app import Assistant, build_assistant
from assistant.embedders import FakeEmbedder
from assistant.integrations.langchain import KnowledgeBaseRetriever, ingest_documents
from assistant.settings import Settings

from .test_langchain_integration import corpus_documents


# Its one async test runs on pytest-asyncio's loop (the mark is for the class: a standard test may not be touched);
# the plugin's note that the others are not async is silenced here, not by its "auto" mode in pyproject.toml, which
# would fail every test run of a virtualenv made before it was installed.
@pytest.mark.asyncio
@pytest.mark.filterwarnings(
    "ignore:The test <Function .*> is marked with '@pytest.mark.asyncio' but it is not an async"
)
class TestKnowledgeBaseRetrieverStandard(RetrieversIntegrationTests):
    assistant: Assistant

    @pytest.fixture(autouse=True, scope="class")
    def _knowledge_base(self, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> None:
        """The standard tests build the retriever from constructor parameters: one indexed test corpus for all."""
        root = tmp_path_factory.mktemp("standard")
        settings = Settings(embedder="fake", index_dir=root / "index", models_dir=root / "models", _env_file=None)
        request.cls.assistant = build_assistant(settings, embedder=FakeEmbedder(), chat=None)
        ingest_documents(request.cls.assistant, corpus_documents())

    @property
    def retriever_constructor(self) -> type[KnowledgeBaseRetriever]:
        return KnowledgeBaseRetriever

    @property
    def retriever_constructor_params(self) -> dict[str, Any]:
        return {"assistant": self.assistant}

    @property
    def retriever_query_example(self) -> str:
        return "When was IMTS first held?"
