"""Idempotent, atomic ingestion: files → documents → chunks → embeddings → a new store generation.

Chunk ids are content hashes. An unchanged file is not even re-read past its hash; a changed file's
unchanged passages keep their stored embeddings; a deleted file's chunks go. Nothing is published
until the whole new generation is written.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .chunking import chunk_document, split_sentences
from .embedders import Embedder
from .event import EVENT_FILE
from .focus import embed_sentences, encode_sentence_vectors
from .loaders import SUPPORTED_SUFFIXES, SkipFile, load_file
from .printable import invisible, printable
from .settings import Settings
from .store import IndexState, VectorStore
from .types import Chunk, Document

# Bump when chunking or metadata change in a way that needs every file re-read (embeddings are reused
# wherever a passage comes out the same).
PIPELINE_VERSION = "chunks-v4"  # v4: metadata fields cut to their limits, controls dropped
# Bump when what the embedder is given changes (text layout, prompts, the sentence split behind each passage's
# sentence vectors): every passage is embedded anew.
EMBEDDING_VERSION = "title-prompt-sdpa-v3+all-sentences-v2"


@dataclass
class IngestReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)
    chunks_embedded: int = 0
    chunks_total: int = 0
    seconds: float = 0.0
    published: bool = False

    def summary(self) -> str:
        return (
            f"{len(self.added)} added, {len(self.updated)} updated, {len(self.removed)} removed, "
            f"{len(self.unchanged)} unchanged, {len(self.skipped)} skipped — "
            f"{self.chunks_embedded} passages embedded, {self.chunks_total} in the index, {self.seconds:.1f} s"
        )


def discover(paths: Sequence[Path]) -> tuple[list[Path], list[tuple[Path, str]]]:
    """Files to read, and files to name as skipped (unsupported type, see ``_folder_files`` for the rest). Hidden
    files and folders are ignored, and so is a folder's ``event.toml``: it is the event profile
    (``assistant/event.py``), not a document. A file named on its own is read as named, even through a link."""
    files: list[Path] = []
    skipped: list[tuple[Path, str]] = []
    for root in paths:
        if root.is_file():
            candidates = [root]
        elif root.is_dir():
            candidates, refused = _folder_files(root)
            skipped.extend(refused)
        else:
            skipped.append((root, "no such file or folder"))
            continue
        for path in candidates:
            if path.name == EVENT_FILE:
                continue
            if path.suffix.lower() in SUPPORTED_SUFFIXES:
                files.append(path)
            else:
                skipped.append((path, f"unsupported file type {path.suffix or '(none)'}"))
    unique = list(dict.fromkeys(p.resolve() for p in files))
    return unique, skipped


def _folder_files(root: Path) -> tuple[list[Path], list[tuple[Path, str]]]:
    """The files under ``root``, and those skipped: a link that leads out of the folder (exhibitors' files may
    hold links to /etc/passwd or /proc/self/environ), a link to a folder (never entered: a link inside that
    points inside adds nothing, and one to a parent would loop), a broken link, a name with control characters.
    A link to a file inside the folder is read (once, under the file's own name). Skipped files are named by
    their own path, never by a link's target."""
    base = root.resolve()
    files: list[Path] = []
    skipped: list[tuple[Path, str]] = []
    for folder, dirs, names in os.walk(root):  # followlinks=False: a linked folder is listed, not entered
        here = Path(folder)
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        skipped.extend((here / d, "a link to a folder (not followed)") for d in dirs if (here / d).is_symlink())
        for name in sorted(n for n in names if not n.startswith(".")):
            path = here / name
            if any(invisible(ch) for ch in str(path.relative_to(root))):
                skipped.append((path, "its name holds control or invisible characters"))
            elif path.is_symlink() and not path.resolve().is_relative_to(base):
                skipped.append((path, "a link to a file outside the folder (not followed)"))
            elif path.is_symlink() and not path.exists():
                skipped.append((path, "a broken link"))
            elif path.is_file():
                files.append(path)
    return files, skipped


def display_path(path: Path) -> str:
    """How a file is named in the output: relative to the working folder where it lies below it, links not
    resolved (a skipped link is named by its own path, not its target), every control character escaped."""
    absolute = Path(os.path.abspath(path))
    try:
        shown = str(absolute.relative_to(Path.cwd()))
    except ValueError:
        shown = str(absolute)
    return printable(shown, 500)


def _file_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _under(path: str, roots: Sequence[Path]) -> bool:
    p = Path(path)
    return any(p == r or r in p.parents for r in roots)


def index_embedder_id(embedder: Embedder) -> str:
    """What an index records about the vectors in it: the model, its number format and the embedding recipe."""
    return f"{embedder.key}+{EMBEDDING_VERSION}"


def _built_with(state: IndexState) -> str:
    """The embedder id an index was built with (its key before the chunking recipe); empty when unrecorded."""
    return (state.embedder_key or "").partition("|")[0]


def foreign_index(store: VectorStore, embedder: Embedder) -> str | None:
    """A sentence when the index holds vectors this machine's embedder would not compute (another model, another
    number format, another recipe), e.g. an index built in bfloat16 and copied to an AVX2 machine that embeds in
    float32. Such an index is rebuilt, never queried across formats. None when it matches or is empty."""
    state = store.state()
    if not state.metadata:
        return None
    built = _built_with(state)
    wanted = index_embedder_id(embedder)
    if built == wanted:
        return None
    return f"the index was built with {built or 'an unrecorded embedder'}; this machine embeds questions with {wanted}"


@dataclass(frozen=True)
class Source:
    """One thing to index: a file, or a document made elsewhere (``Ingestor.run_sources``, used by the LangChain
    integration)."""

    key: str  # its identity in the index: its chunks' source_path
    shown: str  # how the report names it
    same: Callable[[str], bool]  # whether it still has this indexed hash, told without reading it whole
    load: Callable[[], Document]  # raises SkipFile or OSError


def _file_source(path: Path, max_bytes: int) -> Source:
    shown = display_path(path)
    return Source(
        key=str(path),
        shown=shown,
        same=lambda indexed: path.stat().st_size <= max_bytes and _file_hash(path) == indexed,
        load=lambda: load_file(path, shown, max_bytes),
    )


class Ingestor:
    def __init__(self, store: VectorStore, embedder: Embedder, settings: Settings, progress: bool = True) -> None:
        self.store = store
        self.embedder = embedder
        self.settings = settings
        self.progress = progress

    def run(self, paths: Sequence[Path]) -> IngestReport:
        """Index the files under ``paths``; an indexed file under them that is gone is removed."""
        started = time.perf_counter()
        files, unsupported = discover(paths)
        max_bytes = int(self.settings.max_file_mb * 1_000_000)
        roots = [p.resolve() for p in paths]
        return self._index(
            [_file_source(path, max_bytes) for path in files],
            in_scope=lambda source: _under(source, roots),
            shown=lambda source: display_path(Path(source)),
            skipped=[(display_path(p), why) for p, why in unsupported],
            started=started,
        )

    def run_sources(self, sources: Sequence[Source], scope: str) -> IngestReport:
        """Index sources made elsewhere as the whole content of ``scope``, the prefix of their keys: like a folder,
        an unchanged source embeds nothing, a changed one is chunked anew, and an indexed one of that scope that is
        not handed in again is removed."""
        started = time.perf_counter()
        outside = [s.key for s in sources if not s.key.startswith(scope)]
        if outside:
            raise ValueError(f"sources outside the scope {scope!r}: {outside[:3]}")
        return self._index(
            sources,
            in_scope=lambda key: key.startswith(scope),
            shown=lambda key: key.removeprefix(scope),
            skipped=[],
            started=started,
        )

    def _index(
        self,
        sources: Sequence[Source],
        in_scope: Callable[[str], bool],
        shown: Callable[[str], str],
        skipped: list[tuple[str, str]],
        started: float,
    ) -> IngestReport:
        """The one ingestion, whatever the sources: what changed is chunked and embedded, the rest reused, and
        the result published as one new generation. ``in_scope`` says which indexed sources this run looked at
        (one of them not among ``sources`` is removed); ``shown`` names a removed one."""
        report = IngestReport(skipped=skipped)
        state = self.store.state()
        embedder_id = index_embedder_id(self.embedder)
        pipeline = f"{PIPELINE_VERSION}-{self.settings.chunk_chars}-{self.settings.chunk_overlap_sentences}"
        index_key = f"{embedder_id}|{pipeline}"
        rebuild = bool(state.metadata) and _built_with(state) != embedder_id
        rechunk = bool(state.metadata) and state.embedder_key != index_key
        indexed: dict[str, tuple[str, set[str]]] = {}
        by_source: dict[str, set[str]] = defaultdict(set)
        for cid, meta in state.metadata.items():
            by_source[str(meta.get("source_path", ""))].add(cid)
        for key, ids in by_source.items():
            any_meta = state.metadata[next(iter(ids))]
            indexed[key] = (str(any_meta.get("file_hash", "")), ids)

        keep: set[str] = set()
        fresh: list[Chunk] = []
        seen_sources: set[str] = set()
        for source in sources:
            seen_sources.add(source.key)
            previous = indexed.get(source.key)
            try:
                if previous and not rechunk and source.same(previous[0]):
                    keep |= previous[1]
                    report.unchanged.append(source.shown)
                    continue
                doc = source.load()
            except (SkipFile, OSError) as exc:
                reason = str(exc) if isinstance(exc, SkipFile) else f"cannot read ({exc.strerror or exc})"
                if previous and not rebuild:
                    keep |= previous[1]
                    reason += "; its previously indexed version is kept"
                report.skipped.append((source.shown, reason))
                continue
            chunks = chunk_document(doc, self.settings.chunk_chars, self.settings.chunk_overlap_sentences)
            old_ids = set() if (rebuild or not previous) else previous[1]
            keep |= {c.id for c in chunks if c.id in old_ids}
            fresh.extend(c for c in chunks if c.id not in old_ids)
            (report.updated if previous else report.added).append(source.shown)

        for key, (_, ids) in indexed.items():
            if key in seen_sources:
                continue
            if in_scope(key) or rebuild:
                report.removed.append(shown(key))
            else:
                keep |= ids  # indexed from elsewhere; this run did not look there

        # Chunk ids are content hashes: a passage that stands in two files (a copied folder, an index moved with
        # its knowledge folder to another path) is stored once, from the file read in this run.
        unique: dict[str, Chunk] = {}
        for chunk in fresh:
            unique.setdefault(chunk.id, chunk)
        fresh = list(unique.values())
        keep -= unique.keys()
        changed = bool(report.added or report.updated or report.removed or rechunk)
        if changed:
            vectors = self._embed(fresh)
            fresh = self._with_sentence_vectors(fresh)
            self.store.publish(index_key, sorted(keep), fresh, vectors)
            report.published = True
        report.chunks_embedded = len(fresh)
        report.chunks_total = len(keep) + len(fresh) if changed else len(state.metadata)
        report.seconds = time.perf_counter() - started
        return report

    def _embed(self, chunks: list[Chunk]) -> list[list[float]]:
        if not chunks:
            return []
        from tqdm import tqdm

        batch = self.settings.embed_batch_size
        vectors: list[list[float]] = []
        with tqdm(
            total=len(chunks), desc="Embedding passages", unit="passage", file=sys.stderr, disable=not self.progress
        ) as bar:
            for start in range(0, len(chunks), batch):
                part = chunks[start : start + batch]
                vectors.extend(
                    self.embedder.embed_documents([c.embedding_text() for c in part], [c.title for c in part])
                )
                bar.update(len(part))
        return vectors

    def _with_sentence_vectors(self, chunks: list[Chunk]) -> list[Chunk]:
        """Each chunk with a vector per sentence (see focus.py: sentences of all the retrieved passages compete for
        the prompt, a one-sentence passage's too)."""
        split = [split_sentences(c.text) for c in chunks]
        todo = [i for i, sentences in enumerate(split) if sentences]
        if not todo:
            return chunks
        from tqdm import tqdm

        out = list(chunks)
        batch = self.settings.embed_batch_size * 2  # sentences are short
        pending: list[int] = []
        pending_sentences = 0
        with tqdm(
            total=sum(len(split[i]) for i in todo),
            desc="Embedding sentences",
            unit="sentence",
            file=sys.stderr,
            disable=not self.progress,
        ) as bar:
            for n, i in enumerate(todo):
                pending.append(i)
                pending_sentences += len(split[i])
                if pending_sentences < batch and n + 1 < len(todo):
                    continue
                embedded = embed_sentences(self.embedder, [chunks[j] for j in pending], [split[j] for j in pending])
                for j, vectors in zip(pending, embedded, strict=True):
                    out[j] = dataclasses.replace(chunks[j], sentence_vectors=encode_sentence_vectors(vectors))
                bar.update(pending_sentences)
                pending, pending_sentences = [], 0
        return out
