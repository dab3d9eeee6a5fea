"""The composition root: the only place that builds the embedder, the store and (later) the chat model."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from .embedders import Embedder, LazyEmbedder
from .env import set_offline_env
from .ingest import Ingestor, IngestReport
from .retrieval import HybridRetriever
from .settings import Settings
from .store import VectorStore, make_store
from .types import Passage


@dataclass
class Assistant:
    settings: Settings
    store: VectorStore
    embedder: Embedder
    retriever: HybridRetriever

    def ingest(self, paths: Sequence[Path] | None = None, progress: bool = True) -> IngestReport:
        ingestor = Ingestor(self.store, self.embedder, self.settings, progress=progress)
        return ingestor.run(list(paths) if paths else [self.settings.knowledge_dir])

    def search(self, question: str, k: int | None = None, language: str | None = None) -> list[Passage]:
        return self.retriever.search(question, k=k, language=language)


def build_assistant(
    settings: Settings, embedder: Embedder | None = None, store: VectorStore | None = None
) -> Assistant:
    """Build everything from settings; tests may hand in a ready embedder or store."""
    set_offline_env()
    embedder = embedder or LazyEmbedder(settings)
    store = store or make_store(settings)
    return Assistant(settings, store, embedder, HybridRetriever(store, embedder, settings))
