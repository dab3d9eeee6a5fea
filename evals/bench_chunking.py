"""Benchmark: our chunker against LangChain's splitters and pysbd, on the retrieval evaluation of two fairs.

`python -m evals.bench_chunking [--variants ours,langchain,pysbd] [--sets dortmund,frankfurt]`

Variants, all at the settings' size (chunk_chars = 600, one sentence of overlap):
  ours       assistant/chunking.py: sections at the headings, whole sentences (our regex splitter) packed to size.
  langchain  LangChain's MarkdownHeaderTextSplitter on the headings, then RecursiveCharacterTextSplitter
             (600 characters, 100 of overlap: about our one sentence).
  pysbd      ours, with pysbd's rule-based sentence splitter (German or English by the document's language).
Every variant's passages carry the same metadata (title, organisation, section heading, language, doc_id), built
by assistant.chunking.chunks_from_pieces, so only the splitting differs. Each variant gets an index of its own in
a temporary folder (data/index is not touched) and the retrieval evaluation (evals/retrieval.py's hit@1, hit@5,
MRR, found@5 per cell) on the Dortmund golden set and on the second fair's (evals/fairs/frankfurter-buchmesse-2024).
Sentence vectors (focus.py's, for answering) are not made: retrieval does not read them.
Writes evals/reports/bench_chunking.json and a bar chart. Needs the dev extra (langchain-text-splitters, pysbd).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any
from unittest import mock

from assistant import ingest
from assistant.app import build_assistant
from assistant.chunking import _sections, chunk_document, chunks_from_pieces, split_sentences
from assistant.embedders import LazyEmbedder
from assistant.evaluation.dataset import load_dataset
from assistant.evaluation.retrieval import CELLS, format_table, run_retrieval_eval, summarise
from assistant.evaluation.runner import fair_settings
from assistant.lang import detect_language
from assistant.settings import Settings
from assistant.types import Chunk, Document

from .common import DATASET, REPORTS, ROOT, cpu_description, run_meta, save_figure

Chunker = Callable[[Document, int, int], list[Chunk]]
FAIR = ROOT / "evals" / "fairs" / "frankfurter-buchmesse-2024"
LANGCHAIN_OVERLAP_CHARS = 100  # about one of our sentences (median sentence in knowledge/: ~110 characters)
METRICS = ("hit@1", "hit@5", "mrr", "found@5")
# The sentence splits tests/test_chunking.py pins: abbreviations, titles, ordinal dates, decimals, years.
HARD_TEXT = (
    "Vertreten wird die ITB durch Dr.-Ing. Frank Brehmer. Der Empfang war am 13. September 2024 in Chicago. "
    "Dazu zählen u. a. GRIP und ITB. IMTS had about 1.2 million sq ft. It was first held in 1927! "
    "Prof. Leyens has headed IWS since 2018. One source gives 423 staff. Er wurde am 1. Mai gewählt."
)
HARD_SENTENCES = [
    "Vertreten wird die ITB durch Dr.-Ing. Frank Brehmer.",
    "Der Empfang war am 13. September 2024 in Chicago.",
    "Dazu zählen u. a. GRIP und ITB.",
    "IMTS had about 1.2 million sq ft.",
    "It was first held in 1927!",
    "Prof. Leyens has headed IWS since 2018.",
    "One source gives 423 staff.",
    "Er wurde am 1. Mai gewählt.",
]


def langchain_chunks(doc: Document, target_chars: int, overlap_sentences: int) -> list[Chunk]:
    """MarkdownHeaderTextSplitter at the headings, RecursiveCharacterTextSplitter inside each section; the section
    is the deepest heading below the title, as ours has it."""
    from langchain_text_splitters import MarkdownHeaderTextSplitter, RecursiveCharacterTextSplitter

    levels = [("#" * n, f"h{n}") for n in range(1, 7)]
    sections = MarkdownHeaderTextSplitter(headers_to_split_on=levels, strip_headers=True).split_text(doc.text)
    overlap = LANGCHAIN_OVERLAP_CHARS if overlap_sentences else 0
    splitter = RecursiveCharacterTextSplitter(chunk_size=target_chars, chunk_overlap=overlap)
    pieces = []
    for part in sections:
        headings = [part.metadata[f"h{n}"] for n in range(2, 7) if f"h{n}" in part.metadata]
        section = headings[-1] if headings else ""
        pieces += [(section, text.strip()) for text in splitter.split_text(part.page_content) if text.strip()]
    return chunks_from_pieces(doc, pieces)


@cache
def _segmenter(language: str) -> Any:
    import pysbd

    return pysbd.Segmenter(language=language, clean=False)


def pysbd_split(language: str) -> Callable[[str], list[str]]:
    """pysbd's sentence splitter for 'de' or 'en' (anything else: English)."""
    segmenter = _segmenter(language if language in ("de", "en") else "en")
    return lambda text: [s.strip() for s in segmenter.segment(text) if s.strip()]


def sentence_cases() -> dict[str, str]:
    """How many of HARD_SENTENCES each splitter returns whole."""
    splitters = {"ours": split_sentences, "pysbd de": pysbd_split("de"), "pysbd en": pysbd_split("en")}
    return {
        name: f"{len(set(split(HARD_TEXT)) & set(HARD_SENTENCES))}/{len(HARD_SENTENCES)}"
        for name, split in splitters.items()
    }


def long_sentences(knowledge: Path, over: int = 300) -> dict[str, dict[str, int]]:
    """Per splitter, the sentences of a knowledge folder's documents longer than ``over`` characters and the
    longest: a 'sentence' of several sentences is what focus.py would have to take or leave whole."""
    from assistant.ingest import discover
    from assistant.loaders import load_file

    docs = [load_file(path, path.name, 20_000_000) for path in discover([knowledge])[0]]
    splitters: dict[str, Callable[[Document], Callable[[str], list[str]]]] = {
        "ours": lambda doc: split_sentences,
        "pysbd": lambda doc: pysbd_split(doc.language or "en"),
    }
    stats = {}
    for name, splitter in splitters.items():
        lengths = [
            len(sentence)
            for doc in docs
            for _, blocks in _sections(doc.text)  # the blocks chunk_document splits: paragraphs, list items
            for block in blocks
            for sentence in splitter(doc)(block)
        ]
        stats[name] = {
            "sentences": len(lengths),
            f"over_{over}": sum(n > over for n in lengths),
            "longest": max(lengths),
        }
    return stats


def pysbd_chunks(doc: Document, target_chars: int, overlap_sentences: int) -> list[Chunk]:
    language = doc.language if doc.language in ("de", "en") else detect_language(doc.text[:2000])
    return chunk_document(doc, target_chars, overlap_sentences, split=pysbd_split(language))


VARIANTS: dict[str, Chunker] = {"ours": chunk_document, "langchain": langchain_chunks, "pysbd": pysbd_chunks}


@contextmanager
def chunked_with(chunker: Chunker) -> Iterator[list[Chunk]]:
    """Ingestion with another chunker, and without sentence vectors (answering reads them, retrieval does not);
    yields the list that collects the chunks made."""
    made: list[Chunk] = []

    def recording(doc: Document, target_chars: int, overlap_sentences: int) -> list[Chunk]:
        chunks = chunker(doc, target_chars, overlap_sentences)
        made.extend(chunks)
        return chunks

    with (
        mock.patch.object(ingest, "chunk_document", recording),
        mock.patch.object(ingest.Ingestor, "_with_sentence_vectors", lambda self, chunks: chunks),
    ):
        yield made


def fair_sets(base: Settings, names: list[str]) -> dict[str, tuple[Settings, Path]]:
    sets = {}
    if "dortmund" in names:
        sets["dortmund"] = (base.with_overrides(knowledge_dir=ROOT / "knowledge"), DATASET)
    if "frankfurt" in names:
        sets["frankfurt"] = fair_settings(base, FAIR)
    return sets


def run_variant(settings: Settings, dataset: Path, chunker: Chunker, embedder: Any) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-chunking-", ignore_cleanup_errors=True) as tmp:
        own = settings.with_overrides(index_dir=Path(tmp) / "index", chroma_url=None)
        assistant = build_assistant(own, embedder=embedder, chat=None)
        started = time.perf_counter()
        with chunked_with(chunker) as made:
            report = assistant.ingest(progress=True)
        ingest_s = time.perf_counter() - started
        lengths = [len(c.text) for c in made]
        results = run_retrieval_eval(load_dataset(dataset), lambda q, k, lang: assistant.search(q, k=k, language=lang))
    return {
        "passages": report.chunks_total,
        "mean_chars": round(sum(lengths) / len(lengths), 1) if lengths else None,
        "ingest_s": round(ingest_s, 1),
        "summary": summarise(results),
        "misses": [r.id for r in results if r.hit1 < 1],
    }


def comparison_table(figures: dict[str, dict[str, Any]]) -> str:
    cells = [c for c in (*CELLS, "overall") if any(c in f["summary"] for f in figures.values())]
    lines = [f"{'variant':<10}{'passages':>9}  {'cell':<8}{'n':>4}" + "".join(f"{m:>9}" for m in METRICS)]
    for name, f in figures.items():
        for i, cell in enumerate(cells):
            row = f["summary"].get(cell)
            if row is None:
                continue
            head = f"{name:<10}{f['passages']:>9}  " if i == 0 else " " * 21
            lines.append(f"{head}{cell:<8}{row['n']:>4}" + "".join(f"{row[m]:>9.3f}" for m in METRICS))
    return "\n".join(lines)


def as_good(figures: dict[str, Any], baseline: dict[str, Any]) -> bool:
    """No overall metric below the baseline's."""
    mine, theirs = figures["summary"]["overall"], baseline["summary"]["overall"]
    return all(mine[m] >= theirs[m] - 1e-9 for m in METRICS)


def plot(results: dict[str, dict[str, dict[str, Any]]], path: Path, cpu: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(results), figsize=(5 * len(results), 3.4), squeeze=False)
    for ax, (set_name, figures) in zip(axes[0], results.items(), strict=True):
        width = 0.8 / len(figures)
        for i, (variant, f) in enumerate(figures.items()):
            xs = [x + (i - (len(figures) - 1) / 2) * width for x in range(len(METRICS))]
            values = [f["summary"]["overall"][m] for m in METRICS]
            ax.bar(xs, values, width, label=f"{variant} ({f['passages']} passages)")
        n = next(iter(figures.values()))["summary"]["overall"]["n"]
        ax.set_xticks(range(len(METRICS)), METRICS)
        ax.set_ylim(0.5, 1.02)
        ax.set_title(f"{set_name} (n={n}), overall", fontsize=10)
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=len(figures), fontsize=7)
    fig.suptitle(f"Chunking variants on the retrieval evaluation — {cpu}", fontsize=8)
    save_figure(fig, path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument("--sets", default="dortmund,frankfurt")
    parser.add_argument("--report", type=Path, default=REPORTS / "bench_chunking.json")
    args = parser.parse_args(argv)
    variants = {name: VARIANTS[name] for name in args.variants.split(",")}
    cpu = cpu_description()
    print(f"CPU: {cpu}")
    base = Settings()
    embedder = LazyEmbedder(base)  # one model load for all the indexes
    results: dict[str, dict[str, dict[str, Any]]] = {}
    sets = fair_sets(base, args.sets.split(","))
    for set_name, (settings, dataset) in sets.items():
        results[set_name] = {}
        for name, chunker in variants.items():
            print(f"\n== {set_name}: {name}", file=sys.stderr)
            figures = run_variant(settings, dataset, chunker, embedder)
            results[set_name][name] = figures
            print(f"\n{set_name} / {name}: {figures['passages']} passages, ingest {figures['ingest_s']} s")
            print(format_table(figures["summary"]))
    verdicts: dict[str, dict[str, bool]] = {}
    for set_name, figures in results.items():
        print(f"\n{set_name}\n{comparison_table(figures)}")
    if all("ours" in figures for figures in results.values()):
        for name in [v for v in variants if v != "ours"]:
            verdicts[name] = {s: as_good(figures[name], figures["ours"]) for s, figures in results.items()}
            worse = [s for s, good in verdicts[name].items() if not good]
            print(f"{name}: " + (f"worse than ours on {', '.join(worse)}" if worse else "as good as ours on every set"))
    cases = {"hard_sentences_whole": sentence_cases()}
    cases |= {set_name: long_sentences(settings.knowledge_dir) for set_name, (settings, _) in sets.items()}
    print(f"sentence splits: {cases}")
    args.report.parent.mkdir(parents=True, exist_ok=True)
    meta = run_meta(base, chunk_chars=base.chunk_chars, langchain_overlap_chars=LANGCHAIN_OVERLAP_CHARS)
    args.report.write_text(
        json.dumps(
            {"meta": meta, "results": results, "as_good_as_ours": verdicts, "sentence_cases": cases},
            ensure_ascii=False,
            indent=2,
        )
    )
    plot(results, args.report.with_suffix(".png"), cpu)
    print(f"CPU: {cpu}\nreport: {args.report} (+ .png)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
