"""Process environment, set in code at start-up rather than left to the shell: offline, native caches bounded."""

from __future__ import annotations

import os

OFFLINE_ENV = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "ANONYMIZED_TELEMETRY": "False",
    "GRADIO_ANALYTICS_ENABLED": "False",
    "TOKENIZERS_PARALLELISM": "false",
}

# torch runs the bf16 embedder on oneDNN, whose kernels are built per input shape and cached twice (ideep's cache and
# oneDNN's, 1024 entries each): about 2.5 MB that a server kept for good with every new question length. 16 still
# holds all the kernels of one forward pass, so a query is no slower (README, "Load"); a shell value wins.
NATIVE_CACHE_ENV = {"LRU_CACHE_CAPACITY": "16", "ONEDNN_PRIMITIVE_CACHE_CAPACITY": "16"}


def set_offline_env() -> None:
    """Switch off every call home we know of and bound the native caches. Idempotent; must run before those
    libraries are imported (torch reads its cache sizes once)."""
    for key, value in OFFLINE_ENV.items():
        os.environ[key] = value
    for key, value in NATIVE_CACHE_ENV.items():
        os.environ.setdefault(key, value)
