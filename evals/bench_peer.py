"""Side by side with the textbook LangChain RAG: `python -m evals.bench_peer [--limit N] [--only peer|ours]`.

Two systems, one after the other, in one process, from the same knowledge folder, the same two models (the
embedder and the chat GGUF that ``Settings()`` names, resolved as the product resolves them) and the same
questions (the golden set's ``holdout`` part):

- peer: what a competent developer writes from the LangChain documentation: ``DirectoryLoader`` over the
  Markdown/text files, ``RecursiveCharacterTextSplitter`` (1000/200), ``HuggingFaceEmbeddings`` with the
  embedder's own query/document prompts, ``Chroma`` in a temporary folder, the top 4 chunks, ``ChatLlamaCpp``
  and the standard RAG prompt, as one LCEL chain. Its llama.cpp engine is set like the product's (context,
  threads, temperature, flash attention, and llama.cpp's own defaults where ChatLlamaCpp has other ones: batch
  512, RoPE from the file, no repeat penalty), so that what differs is the pipeline, not the wrapper. It sees
  no conversation history (the textbook chain has none), so a follow-up reaches it as the bare question;
- ours: ``build_assistant(Settings())``, indexing cold into a temporary index folder.

For each: ingestion time (models loaded beforehand and timed apart), first-token and whole-answer p50/p95
after one warm-up question, and the product's own answer scores (``score_item``/``summarise_answers``): the
peer's answer counts as a refusal when the product's refusal check or its own instruction's "I don't know"
matches; it cites nothing, and its retrieved chunks are its evidence. Faithfulness is the names/numbers/dates
check alone (judge none: the LLM judge would roughly double the run). Writes evals/reports/bench_peer.json and
a figure; a full run takes 10+ minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import gc
import json
import re
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_core.language_models import BaseChatModel
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import Runnable, RunnablePassthrough

from assistant import prompts
from assistant.answering import is_refusal
from assistant.app import build_assistant
from assistant.chat_backends import resolve_gguf
from assistant.embedders import resolve_model_path
from assistant.env import set_offline_env
from assistant.evaluation.answers import AnswerResult, score_item, summarise_answers
from assistant.evaluation.dataset import Item, load_dataset
from assistant.evaluation.metrics import percentile
from assistant.lang import SUPPORTED, detect_language
from assistant.settings import Settings
from assistant.types import Answer, Turn

from .common import DATASET, REPORTS, ensure_index, llama_build, run_meta, save_figure, timed_answer

SYSTEMS = ("peer", "ours")
WARM_UP = "Warm-up: who organised the Dortmund delegation?"
CHUNK_SIZE, CHUNK_OVERLAP, PEER_K = 1000, 200, 4  # the LangChain RAG tutorial's values
PEER_PROMPT = (
    "You are an assistant for question-answering tasks. Use the following pieces of retrieved context to answer "
    "the question. If you don't know the answer, just say that you don't know. Use three sentences maximum and "
    "keep the answer concise. Answer in the language of the question.\n"
    "Question: {question} \nContext: {context} \nAnswer:"
)
# The peer is told to "just say that you don't know" and calls its passages "context"; the product's refusal check
# knows only its own sentences ("not in my materials", "not stated in the sources"). Matched in the folded answer.
DONT_KNOW = re.compile(
    r"\b(i (do not|don ?t) know|weiß (ich |es )*nicht"
    r"|context (does not|doesn ?t) (provide|mention|contain|include|say|specify|state)"
    r"|(im|dem) kontext (nicht|keine)|kontext (enthält|nennt|erwähnt) (keine|nicht))\b"
)
JUDGE = "none (faithfulness from names, numbers and dates only; the LLM judge would roughly double the run)"
SPEED = (
    ("ingest_s", "ingestion (s)"),
    ("first_token_p50_ms", "first token p50 (ms)"),
    ("first_token_p95_ms", "first token p95 (ms)"),
    ("total_p50_ms", "whole answer p50 (ms)"),
    ("total_p95_ms", "whole answer p95 (ms)"),
)
QUALITY = (
    ("correctness", "correctness"),
    ("refusal_recall", "refusal recall"),
    ("refusal_precision", "refusal precision"),
    ("language_match", "language match"),
    ("faithfulness", "faithfulness (names/numbers)"),
    ("injection_resistance", "injection resistance"),
)


# --- the peer: the textbook LCEL chain ------------------------------------------------------------------------


def load_and_split(knowledge: Path) -> tuple[list[Document], list[Document]]:
    """The knowledge folder's Markdown and text files (not event.toml), split as the LangChain docs do."""
    from langchain_community.document_loaders import DirectoryLoader, TextLoader
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    loader = DirectoryLoader(
        str(knowledge),
        glob=["**/*.md", "**/*.txt"],
        exclude=["event.toml"],
        loader_cls=TextLoader,
        loader_kwargs={"encoding": "utf-8"},
    )
    docs = loader.load()
    splitter = RecursiveCharacterTextSplitter(chunk_size=CHUNK_SIZE, chunk_overlap=CHUNK_OVERLAP)
    return docs, splitter.split_documents(docs)


def format_docs(docs: Sequence[Document]) -> str:
    return "\n\n".join(doc.page_content for doc in docs)


def build_chain(retriever: Runnable, llm: BaseChatModel) -> Runnable:
    prompt = ChatPromptTemplate.from_template(PEER_PROMPT)
    return {"context": retriever | format_docs, "question": RunnablePassthrough()} | prompt | llm | StrOutputParser()


class Trace(BaseCallbackHandler):
    """What one run of the chain retrieved and the prompt the model got (LangChain callbacks, no change to the
    chain): the retrieved chunks are the peer's evidence."""

    def __init__(self) -> None:
        self.documents: list[Document] = []
        self.prompt = ""

    def on_retriever_end(self, documents: Sequence[Document], **kwargs: Any) -> None:
        self.documents = list(documents)

    def on_chat_model_start(self, serialized: dict[str, Any], messages: list[list[Any]], **kwargs: Any) -> None:
        self.prompt = "\n".join(str(m.content) for m in messages[0])

    def on_llm_start(self, serialized: dict[str, Any], prompts: list[str], **kwargs: Any) -> None:
        self.prompt = prompts[0]


@dataclass(frozen=True)
class PeerReply:
    text: str
    first_token_ms: float | None
    total_ms: float
    documents: tuple[Document, ...]
    prompt: str


@dataclass
class Peer:
    chain: Runnable
    ingest: dict[str, Any]
    store: Any = field(repr=False)

    def ask(self, question: str) -> PeerReply:
        trace = Trace()
        started = time.perf_counter()
        first = None
        parts = []
        for piece in self.chain.stream(question, config={"callbacks": [trace]}):
            if piece and first is None:
                first = (time.perf_counter() - started) * 1000
            parts.append(piece)
        total = (time.perf_counter() - started) * 1000
        return PeerReply("".join(parts), first, total, tuple(trace.documents), trace.prompt)


def build_peer(knowledge: Path, persist_dir: Path, embeddings: Embeddings, llm: BaseChatModel) -> Peer:
    """Load, split, embed and store from scratch (timed), then the chain over the store's top PEER_K chunks."""
    import chromadb
    from langchain_chroma import Chroma

    started = time.perf_counter()
    docs, splits = load_and_split(knowledge)
    split_s = time.perf_counter() - started
    store = Chroma.from_documents(
        documents=splits,
        embedding=embeddings,
        persist_directory=str(persist_dir),
        client_settings=chromadb.config.Settings(anonymized_telemetry=False),
    )
    total_s = time.perf_counter() - started
    ingest = {
        "files": len(docs),
        "chunks": len(splits),
        "load_split_s": round(split_s, 2),
        "embed_store_s": round(total_s - split_s, 2),
        "ingest_s": round(total_s, 2),
    }
    retriever = store.as_retriever(search_kwargs={"k": PEER_K})
    return Peer(build_chain(retriever, llm), ingest, store)


def peer_embeddings(settings: Settings) -> Embeddings:
    """HuggingFaceEmbeddings on the product's embedder folder, with the model's own query/document prompts
    (EmbeddingGemma is trained with them; the LangChain docs pass such options as ``prompt_name``)."""
    from langchain_huggingface import HuggingFaceEmbeddings

    path = resolve_model_path(settings.embedder, settings.models_dir)
    config = path / "config_sentence_transformers.json"
    named = json.loads(config.read_text(encoding="utf-8")).get("prompts", {}) if config.exists() else {}
    return HuggingFaceEmbeddings(
        model_name=str(path),
        model_kwargs={"device": "cpu", "local_files_only": True},
        encode_kwargs={"prompt_name": "document"} if "document" in named else {},
        query_encode_kwargs={"prompt_name": "query"} if "query" in named else {},
    )


def peer_llm(settings: Settings) -> BaseChatModel:
    from langchain_community.chat_models import ChatLlamaCpp

    return ChatLlamaCpp(
        model_path=str(resolve_gguf(settings.llm_model, settings.models_dir)),
        n_ctx=settings.llm_context_tokens,
        n_threads=settings.llm_threads,
        temperature=settings.llm_temperature,
        max_tokens=settings.llm_max_tokens,
        # ChatLlamaCpp's own defaults differ from llama.cpp's, which the product runs with: batch 8 (slow prompt
        # processing), RoPE base 10000 (wrong for Qwen2.5, whose file says 1e6) and repeat penalty 1.1.
        n_batch=512,
        rope_freq_base=0.0,
        rope_freq_scale=0.0,
        repeat_penalty=1.0,
        model_kwargs={"flash_attn": settings.llm_flash_attention, "n_threads_batch": settings.llm_threads},
        verbose=False,
    )


def peer_refused(text: str, language: str) -> bool:
    """The product's refusal check, or the peer's own "I don't know", in a short answer as the product requires."""
    if is_refusal(text, language):
        return True
    folded = re.sub(r"\s+", " ", re.sub(r"[^\w\s]", " ", text.lower().replace("’", "'"))).strip()
    longest = max(len(prompts.text("refusal", lang)) for lang in SUPPORTED)
    return len(folded) <= longest + 80 and DONT_KNOW.search(folded) is not None


def peer_answer(item: Item, reply: PeerReply, model: str) -> Answer:
    """An ``Answer`` as the product's scorer reads it: it cites nothing, and "I don't know" is its refusal."""
    refused = peer_refused(reply.text, item.language)
    return Answer(
        question=item.question,
        standalone_question=item.question,
        answer=reply.text,
        language=detect_language(reply.text) if reply.text.strip() else "",
        refused=refused,
        route="refusal" if refused else "llm",
        reason="",
        sources=(),
        timings={"first_token_ms": reply.first_token_ms, "total_ms": reply.total_ms},
        prompt_version="langchain-rag-prompt",
        model=model,
    )


# --- the runs ----------------------------------------------------------------------------------------------------


@dataclass
class Run:
    system: str
    config: dict[str, Any]
    ingest: dict[str, Any]
    results: list[AnswerResult] = field(default_factory=list)
    rows: list[dict[str, Any]] = field(default_factory=list)


def _ask_all(run: Run, items: Sequence[Item], ask: Callable[[Item], tuple[Answer, list[str], dict[str, Any]]]) -> None:
    for n, item in enumerate(items, 1):
        answer, evidence, extra = ask(item)
        result = replace(score_item(item, answer, evidence), split=item.split)
        run.results.append(result)
        timings = answer.timings
        first_ms = timings["first_token_ms"]
        run.rows.append(
            {
                "id": item.id,
                "first_token_ms": None if first_ms is None else round(first_ms, 1),
                "total_ms": round(timings["total_ms"] or 0, 1),
                **extra,
            }
        )
        first = timings["first_token_ms"] or 0
        # the peer cites nothing by design, so its missing citations are not news (nor compared in the table)
        shown = [f for f in result.failures if run.system == "ours" or not f.startswith("citations")]
        verdict = "; ".join(shown) or "ok"
        print(
            f"{run.system} {n:>3}/{len(items)} {item.id:<42} first {first:>6.0f} ms  total {timings['total_ms']:>6.0f}"
            f" ms  {answer.route:<8} {verdict}"[:220],
            flush=True,
        )


def run_peer(settings: Settings, items: Sequence[Item]) -> Run:
    import torch

    print("== peer: the textbook LangChain RAG", flush=True)
    started = time.perf_counter()
    embeddings = peer_embeddings(settings)
    embeddings.embed_query("warm-up")
    embedder_load_s = time.perf_counter() - started
    with tempfile.TemporaryDirectory(prefix="bench-peer-chroma-", ignore_cleanup_errors=True) as tmp:
        started = time.perf_counter()
        llm = peer_llm(settings)
        llm_load_s = time.perf_counter() - started
        peer = build_peer(settings.knowledge_dir, Path(tmp), embeddings, llm)
        print(f"index: {peer.ingest['files']} files, {peer.ingest['chunks']} chunks in {peer.ingest['ingest_s']} s")
        model = f"llamacpp:{Path(llm.model_path).name}"  # type: ignore[attr-defined]
        config = {
            "embedder": str(resolve_model_path(settings.embedder, settings.models_dir)),
            "model": model,
            "chunk_size": CHUNK_SIZE,
            "chunk_overlap": CHUNK_OVERLAP,
            "k": PEER_K,
            "prompt": PEER_PROMPT,
            "history": "none (the textbook chain has none; a follow-up reaches it as the bare question)",
            "embed_dtype": "float32 (the sentence-transformers default)",
            "torch_threads": torch.get_num_threads(),
            "embedder_load_s": round(embedder_load_s, 2),
            "llm_load_s": round(llm_load_s, 2),
        }
        run = Run("peer", config, peer.ingest)
        peer.ask(WARM_UP)

        def ask(item: Item) -> tuple[Answer, list[str], dict[str, Any]]:
            reply = peer.ask(item.question)
            sources = [str(d.metadata.get("source", "")) for d in reply.documents]
            evidence = [d.page_content for d in reply.documents]
            return peer_answer(item, reply, model), evidence, {"retrieved": sources}

        _ask_all(run, items, ask)
        llm.client.close()  # type: ignore[attr-defined]  # its memory back before ours loads the same model
    gc.collect()
    return run


def run_ours(base: Settings, items: Sequence[Item]) -> Run:
    print("== ours: build_assistant(Settings()), cold index in a temporary folder", flush=True)
    with tempfile.TemporaryDirectory(prefix="bench-peer-index-", ignore_cleanup_errors=True) as tmp:
        settings = base.with_overrides(index_dir=Path(tmp) / "index", chroma_url=None)
        assistant = build_assistant(settings)
        started = time.perf_counter()
        assistant.embedder.embed_query("warm-up")
        embedder_load_s = time.perf_counter() - started
        started = time.perf_counter()
        ensure_index(assistant)
        ingest_s = time.perf_counter() - started
        started = time.perf_counter()
        assistant.ask(WARM_UP)
        warm_up_s = time.perf_counter() - started
        config = {
            "embedder": settings.embedder,
            "model": assistant.answerer.model_name,
            "embedder_load_s": round(embedder_load_s, 2),
            "llm_load_and_warm_up_s": round(warm_up_s, 2),
        }
        run = Run("ours", config, {"ingest_s": round(ingest_s, 2), "chunks": len(assistant.store.chunks())})

        def ask(item: Item) -> tuple[Answer, list[str], dict[str, Any]]:
            history = [Turn(t["role"], t["content"]) for t in item.history]
            timed = timed_answer(assistant, item.question, history)  # the same stopwatch as the peer's
            timings = {**timed.answer.timings, "first_token_ms": timed.first_token_ms, "total_ms": timed.total_ms}
            answer = replace(timed.answer, timings=timings)
            evidence = [f"{s.title}\n{s.organisation}\n{s.text}" for s in answer.sources]
            return answer, evidence, {"sources": [s.document for s in answer.sources]}

        _ask_all(run, items, ask)
    return run


# --- figures, table, report ------------------------------------------------------------------------------------


def figures(run: Run) -> dict[str, Any]:
    firsts = [r["first_token_ms"] for r in run.rows if r["first_token_ms"] is not None]
    totals = [r["total_ms"] for r in run.rows]
    speed = {
        "ingest_s": run.ingest["ingest_s"],
        "first_token_p50_ms": round(percentile(firsts, 50)) if firsts else None,
        "first_token_p95_ms": round(percentile(firsts, 95)) if firsts else None,
        "total_p50_ms": round(percentile(totals, 50)) if totals else None,
        "total_p95_ms": round(percentile(totals, 95)) if totals else None,
    }
    return {"speed": speed, "summary": summarise_answers(run.results)}


def ratios(done: dict[str, dict[str, Any]]) -> dict[str, float | None]:
    """ours/peer for every figure: below 1 is faster for the speed figures, above 1 is better for the scores."""
    peer, ours = done["peer"], done["ours"]
    out: dict[str, float | None] = {}
    for key, _ in SPEED:
        out[key] = _ratio(ours["speed"][key], peer["speed"][key])
    for key, _ in QUALITY:
        out[key] = _ratio(ours["summary"][key]["value"], peer["summary"][key]["value"])
    return out


def _ratio(a: float | None, b: float | None) -> float | None:
    if a is None or b is None or b != b or a != a or b == 0:
        return None
    return round(a / b, 3)


def table(done: dict[str, dict[str, Any]], ratio: dict[str, float | None] | None) -> str:
    names = list(done)
    head = f"{'':<30}" + "".join(f"{n:>16}" for n in names) + (f"{'ours/peer':>12}" if ratio else "")
    lines = [head]
    for key, label in SPEED:
        cells = "".join(f"{_num(done[n]['speed'][key]):>16}" for n in names)
        lines.append(f"{label:<30}{cells}" + (f"{_num(ratio[key], 2):>12}" if ratio else ""))
    for key, label in QUALITY:
        cells = ""
        for n in names:
            row = done[n]["summary"][key]
            cells += f"{_num(row['value'], 3) + ' (' + str(row['n']) + ')':>16}"
        lines.append(f"{label:<30}{cells}" + (f"{_num(ratio[key], 2):>12}" if ratio else ""))
    lines.append("(n) under each score; ours/peer below 1 is faster, above 1 a better score")
    lines.append("judge: none; citations not compared (the peer cites nothing by design)")
    return "\n".join(lines)


def _num(value: float | None, digits: int = 0) -> str:
    if value is None or value != value:
        return "—"
    return f"{value:.{digits}f}" if digits else f"{value:.0f}"


def plot(done: dict[str, dict[str, Any]], questions: int, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(done)
    width = 0.8 / len(names)
    fig, (ingest_ax, speed_ax, quality_ax) = plt.subplots(
        1, 3, figsize=(13, 4), gridspec_kw={"width_ratios": [1, 2.2, 3.2]}
    )
    for i, name in enumerate(names):
        ingest_ax.bar(i, done[name]["speed"]["ingest_s"] or 0, 0.6, label=name, color=_colour(name))
    ingest_ax.set_xticks(range(len(names)), names)
    ingest_ax.set_ylabel("seconds")
    ingest_ax.set_title("ingestion (cold)")
    keys = [k for k, _ in SPEED[1:]]
    for i, name in enumerate(names):
        values = [(done[name]["speed"][k] or 0) / 1000 for k in keys]
        speed_ax.bar(
            [x + (i - (len(names) - 1) / 2) * width for x in range(len(keys))],
            values,
            width,
            label=name,
            color=_colour(name),
        )
    speed_ax.set_xticks(range(len(keys)), ["first\np50", "first\np95", "whole\np50", "whole\np95"])
    speed_ax.set_ylabel("seconds")
    speed_ax.set_title("answer time (lower is better)")
    speed_ax.legend()
    keys = [k for k, _ in QUALITY]
    for i, name in enumerate(names):
        rows = [done[name]["summary"][k] for k in keys]
        values = [0 if r["value"] != r["value"] else r["value"] for r in rows]
        errors = [
            [max(0.0, v - r["ci95"][0]) for v, r in zip(values, rows, strict=True)],
            [max(0.0, r["ci95"][1] - v) for v, r in zip(values, rows, strict=True)],
        ]
        offsets = [x + (i - (len(names) - 1) / 2) * width for x in range(len(keys))]
        quality_ax.bar(offsets, values, width, yerr=errors, capsize=2, label=name, color=_colour(name))
    quality_ax.set_xticks(
        range(len(keys)),
        ["correct", "refusal\nrecall", "refusal\nprecision", "language", "faithful\n(n/n)", "injection\nresist."],
    )
    quality_ax.set_ylim(0, 1.05)
    quality_ax.set_title("answer quality, 95% CI (higher is better)")
    quality_ax.legend()
    fig.suptitle(f"{questions} holdout questions, same models and knowledge; judge none", fontsize=10)
    save_figure(fig, path)


def _colour(system: str) -> str:
    return f"C{SYSTEMS.index(system)}"  # the same colour for a system whether it ran alone or beside the other


def main(argv: list[str] | None = None) -> int:
    set_offline_env()  # before torch is imported: offline, and its native caches bounded as in the product
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--limit", type=int, help="Only the first N holdout items (a quick look).")
    parser.add_argument("--report", type=Path, default=REPORTS / "bench_peer.json")
    parser.add_argument("--only", choices=SYSTEMS, help="Run one system alone.")
    args = parser.parse_args(argv)

    settings = Settings()
    items = [i for i in load_dataset(DATASET) if i.split == "holdout"][: args.limit]
    print(f"{len(items)} holdout questions; judge: {JUDGE}", flush=True)
    runs = []
    if args.only in (None, "peer"):
        runs.append(run_peer(settings, items))
    if args.only in (None, "ours"):
        runs.append(run_ours(settings, items))

    done = {run.system: figures(run) for run in runs}
    ratio = ratios(done) if len(done) == 2 else None
    print(table(done, ratio))
    report = {
        "meta": run_meta(
            settings, llama=llama_build(), dataset=str(DATASET), split="holdout", limit=args.limit, judge=JUDGE
        ),
        "systems": {
            run.system: {"config": run.config, "ingest": run.ingest, **done[run.system], "rows": run.rows}
            for run in runs
        },
        "ratios_ours_over_peer": ratio,
        "items": {run.system: [asdict(r) for r in run.results] for run in runs},
    }
    args.report.parent.mkdir(parents=True, exist_ok=True)
    args.report.write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
    plot(done, len(items), args.report.with_suffix(".png"))
    print(f"report: {args.report} (+ .png)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
