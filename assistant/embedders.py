"""The ``Embedder`` seam: texts in, unit vectors out. sentence-transformers stays inside its adapter."""

from __future__ import annotations

import functools
import hashlib
import logging
import math
import platform
import re
import threading
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

from .errors import ConfigError, ModelNotAvailable
from .settings import Settings

Vector = list[float]
TITLE_SLOT = "title: none"
RECENT_QUERIES = 8
# CPU features (as /proc/cpuinfo names them) that run bfloat16 matrix products in hardware. Without them torch
# emulates bfloat16 through float32 and the embedder is slower than in float32 (an AVX2 laptop: a query 268 ms
# in bfloat16 against 133 ms in float32, ingestion 1.7 against 10.1 passages a second).
BF16_FEATURES = ("amx_bf16", "avx512_bf16")

log = logging.getLogger(__name__)


def cpu_info() -> dict[str, str]:
    """The first processor's fields in /proc/cpuinfo ("model name", "flags", …); empty where there is none."""
    try:
        text = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return {}
    fields: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip():
            if fields:
                break  # the next processor repeats the same fields
            continue
        name, _, value = line.partition(":")
        fields.setdefault(name.strip(), value.strip())
    return fields


def cpu_flags() -> frozenset[str]:
    """The CPU's feature flags as the kernel lists them (``flags`` on x86, ``Features`` on ARM)."""
    info = cpu_info()
    return frozenset((info.get("flags") or info.get("Features") or "").split())


@functools.cache
def resolve_dtype(setting: str) -> str:
    """The embedder's number format: ``auto`` takes bfloat16 where the CPU runs it in hardware, float32
    elsewhere. int8 is only taken when asked for: on AVX2 it embeds a query in 48 ms against 75 ms and its
    retrieval evaluation equals float32's, but the answer evaluation on holdout got worse with it (refusal
    recall 1.000 → 0.769, faithfulness 0.981 → 0.945), and a wrong answer is worse than a slower one.

    Decided by the CPU's features, not by a timing at load time: a measurement on a busy 2-core kiosk would
    pick a different format from one start to the next, and every change of format rebuilds the index.
    """
    if setting != "auto":
        return setting
    flags = cpu_flags()
    x86 = platform.machine().lower() in ("x86_64", "amd64")
    found = [f for f in BF16_FEATURES if f in flags]
    if found and x86:
        log.info("embedder number format: bfloat16 (this CPU has %s)", ", ".join(found))
        return "bfloat16"
    log.info(
        "embedder number format: float32 (this CPU has no %s; bfloat16 would be emulated, slower)",
        " or ".join(BF16_FEATURES),
    )
    return "float32"


class Embedder(Protocol):
    key: str  # identifies the model; an index built with another key is rebuilt

    def embed_documents(self, texts: Sequence[str], titles: Sequence[str] | None = None) -> list[Vector]: ...

    def embed_query(self, text: str) -> Vector: ...


class FakeEmbedder:
    """Deterministic hash-seeded bag-of-words vectors: fast, offline, and similar texts stay similar."""

    def __init__(self, dim: int = 128) -> None:
        self.dim = dim
        self.key = f"fake-{dim}"
        self.calls = 0  # passages embedded so far, so tests can see what was (not) re-embedded

    def _vector(self, text: str) -> Vector:
        vec = [0.0] * self.dim
        for token in re.findall(r"\w+", text.lower()):
            digest = hashlib.blake2b(token.encode(), digest_size=8).digest()
            index = int.from_bytes(digest[:4], "little") % self.dim
            vec[index] += 1.0 if digest[4] % 2 else -1.0
        norm = math.sqrt(sum(v * v for v in vec)) or 1.0
        return [v / norm for v in vec]

    def embed_documents(self, texts: Sequence[str], titles: Sequence[str] | None = None) -> list[Vector]:
        self.calls += len(texts)
        return [self._vector(t) for t in texts]

    def embed_query(self, text: str) -> Vector:
        return self._vector(text)


class SentenceTransformerEmbedder:
    """A local sentence-transformers model; uses the model's own query/document prompts when it has them."""

    def __init__(self, path: Path, threads: int, batch_size: int = 16, dtype: str = "float32") -> None:
        import torch
        from sentence_transformers import SentenceTransformer

        torch.set_num_threads(threads)
        self.key = _key(path.name, dtype)
        weights = "float32" if dtype == "int8" else dtype  # int8: float32 weights, quantised below
        self.batch_size = batch_size
        self._model: Any = SentenceTransformer(
            str(path),
            device="cpu",
            local_files_only=True,
            # SDPA attention: with no mask to build (one query, see embed_query) it is the fastest here
            # (CPU time a query, bf16, 1 thread: eager 99 ms, SDPA with mask 94 ms, SDPA without 80 ms).
            model_kwargs={"torch_dtype": getattr(torch, weights), "attn_implementation": "sdpa"},
        )
        self._torch = torch
        self._recent: OrderedDict[str, Vector] = OrderedDict()
        self._recent_lock = threading.Lock()
        self._model_lock = threading.Lock()  # the fast tokenizer fails when two threads use it at once
        self._query_prefix: str = (self._model.prompts or {}).get("query") or ""
        modules = list(self._model)
        # The fast path for one query needs the usual layout: a Hugging Face transformer, then pooling etc.
        self._hf = getattr(modules[0], "auto_model", None)
        self._tail = modules[1:]
        if self._hf is not None and dtype == "bfloat16":
            _prepack_linears(self._hf, torch)
        if self._hf is not None and dtype == "int8":
            _quantise_linears(self._hf, torch)
        self._unmasked = _unmasked_attention(self._hf)

    def embed_documents(self, texts: Sequence[str], titles: Sequence[str] | None = None) -> list[Vector]:
        template = (self._model.prompts or {}).get("document", "")
        if titles is not None and TITLE_SLOT in template:
            # The model was trained with "title: {title} | text: {text}"; give it the real title.
            prompted = [
                template.replace(TITLE_SLOT, f"title: {t or 'none'}") + x for t, x in zip(titles, texts, strict=True)
            ]
            with self._model_lock:
                vectors = self._model.encode(prompted, batch_size=self.batch_size, normalize_embeddings=True)
        else:
            with self._model_lock:
                vectors = self._model.encode_document(
                    list(texts), batch_size=self.batch_size, normalize_embeddings=True
                )
        return [v.tolist() for v in vectors]

    def embed_query(self, text: str) -> Vector:
        """One query, one sequence: no padding, so no attention mask is passed (with SDPA that saves about a
        fifth of the time of a query; the vector is the same up to float rounding), and none is built where the
        model attends both ways (see _unmasked_attention). The last few queries are remembered: an answer embeds
        its question for retrieval and again to focus the passages."""
        with self._recent_lock:
            if text in self._recent:
                self._recent.move_to_end(text)
                return self._recent[text]
        with self._model_lock:
            vector = self._embed_query(text)
        with self._recent_lock:
            self._recent[text] = vector
            while len(self._recent) > RECENT_QUERIES:
                self._recent.popitem(last=False)
        return vector

    def _embed_query(self, text: str) -> Vector:
        if self._hf is None:
            vector = self._model.encode_query([text], normalize_embeddings=True, show_progress_bar=False)[0]
            return vector.tolist()
        torch = self._torch
        with torch.inference_mode():
            encoded = self._model.tokenizer(
                self._query_prefix + text,
                return_tensors="pt",
                truncation=True,
                max_length=self._model.max_seq_length,
            )
            ids = encoded["input_ids"]
            mask = None
            if self._unmasked is not None and ids.shape[1] <= self._unmasked[1]:
                mask = self._unmasked[0]
            hidden = self._hf(input_ids=ids, attention_mask=mask).last_hidden_state
            features: dict[str, Any] = {"token_embeddings": hidden, "attention_mask": encoded["attention_mask"]}
            for module in self._tail:
                features = module(features)
            vector = torch.nn.functional.normalize(features["sentence_embedding"].float(), dim=-1)[0]
        return vector.tolist()


def _unmasked_attention(model: Any) -> tuple[dict[str, None], int] | None:
    """For a model that attends both ways (``use_bidirectional_attention``), the "no mask" for each of its layer
    kinds, and the longest sequence it holds for (the sliding window): one unpadded query within the window needs
    no mask, but transformers builds one per kind on every call (1.5–1.9 ms of a 32 ms query here, the vector
    bit-identical). None for any other model: its masks are built as usual."""
    config = getattr(model, "config", None)
    kinds = getattr(config, "layer_types", None)
    if model is None or not getattr(config, "use_bidirectional_attention", False) or not kinds:
        return None
    window = int(getattr(config, "sliding_window", 0) or getattr(config, "max_position_embeddings", 0) or 0)
    return {kind: None for kind in set(kinds)}, window


def _prepack_linears(model: Any, torch: Any) -> int:
    """Swap the model's linear layers for oneDNN ones with weights reordered once, at load time.

    A bf16 linear otherwise reorders its weight on every call; for a one-query batch that is a third of
    each matrix product (a query took 66 → 50 ms here). The results are bit-identical (checked on the first
    layer before anything is swapped), so the index needs no rebuild. Where oneDNN is missing or disagrees,
    nothing is swapped. Returns how many layers were swapped.
    """
    linears = [
        (parent, name, child)
        for parent in model.modules()
        for name, child in parent.named_children()
        if type(child) is torch.nn.Linear
    ]
    if not linears:
        return 0
    try:
        probe = linears[0][2]
        packed = _packed_linear_class()(probe)
        with torch.inference_mode():
            for shape in ((1, 7, probe.in_features), (3, 40, probe.in_features)):
                x = torch.randn(*shape, dtype=probe.weight.dtype)
                if not torch.equal(packed(x), probe(x)):
                    return 0
    except (AttributeError, RuntimeError):  # no oneDNN in this torch build
        return 0
    for parent, name, child in linears:
        setattr(parent, name, _packed_linear_class()(child))
    return len(linears)


def _quantise_linears(model: Any, torch: Any) -> None:
    """Dynamic int8 quantisation of the linear layers, in place: weights stored as int8, activations quantised
    per call (fbgemm's kernels on x86). Opt-in (``embed_dtype = "int8"``): a query took 75 ms in float32 and
    48 ms in int8 on 2 cores limited to AVX2, retrieval as float32, but answers on holdout got worse (see
    resolve_dtype). One scale per output row (per-channel): one per matrix lost more retrieval.
    docs/evaluation.md, "Speed on AVX2"."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch.ao.quantization announces its move to torchao
        spec = {torch.nn.Linear: torch.ao.quantization.per_channel_dynamic_qconfig}  # a scale per output row
        torch.ao.quantization.quantize_dynamic(model, spec, dtype=torch.qint8, inplace=True)


@functools.cache
def _packed_linear_class() -> Any:
    import torch

    class PackedLinear(torch.nn.Module):
        """A linear layer on oneDNN with its weight reordered once (see _prepack_linears)."""

        def __init__(self, linear: torch.nn.Linear) -> None:
            super().__init__()
            self.in_features = linear.in_features
            self.out_features = linear.out_features
            self.packed = torch.ops.mkldnn._reorder_linear_weight(linear.weight.detach(), None)
            self.bias = linear.bias

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return torch.ops.mkldnn._linear_pointwise(x, self.packed, self.bias, "none", [], "")

    return PackedLinear


def resolve_model_path(name: str, models_dir: Path) -> Path:
    """A model name is a local path, a folder in models_dir, or a hub id fetched into models_dir."""
    candidates = [Path(name).expanduser(), models_dir / name, models_dir / name.replace("/", "--")]
    for candidate in candidates:
        if (candidate / "modules.json").exists() or (candidate / "config.json").exists():
            return candidate
    raise ModelNotAvailable(
        f"Embedding model '{name}' is not in {models_dir}/ — run `assistant models fetch` first "
        "(or set ASSISTANT_EMBEDDER to a local sentence-transformers folder)."
    )


def make_embedder(settings: Settings) -> Embedder:
    """The one factory for this seam: the implementation is chosen by name."""
    if settings.embedder == "fake":
        return FakeEmbedder()
    path = resolve_model_path(settings.embedder, settings.models_dir)
    try:
        return SentenceTransformerEmbedder(
            path, settings.torch_threads, settings.embed_batch_size, resolve_dtype(settings.embed_dtype)
        )
    except ImportError as exc:  # pragma: no cover - only without the optional stack
        raise ConfigError(f"sentence-transformers is missing ({exc}) — run `make setup`.") from exc


class LazyEmbedder:
    """Loads the real model on first use, so a no-op re-ingest never pays for it."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._inner: Embedder | None = None
        self.key = _model_key(settings)

    @property
    def inner(self) -> Embedder:
        if self._inner is None:
            self._inner = make_embedder(self._settings)
        return self._inner

    def embed_documents(self, texts: Sequence[str], titles: Sequence[str] | None = None) -> list[Vector]:
        return self.inner.embed_documents(texts, titles)

    def embed_query(self, text: str) -> Vector:
        return self.inner.embed_query(text)


def _key(name: str, dtype: str) -> str:
    return name if dtype == "float32" else f"{name}@{dtype}"


def _model_key(settings: Settings) -> str:
    if settings.embedder == "fake":
        return FakeEmbedder().key
    return _key(Path(settings.embedder.replace("/", "--")).name, resolve_dtype(settings.embed_dtype))
