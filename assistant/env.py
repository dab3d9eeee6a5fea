"""Offline-first process environment, set in code at start-up rather than left to the shell."""

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


def set_offline_env() -> None:
    """Switch off every call home we know of. Idempotent; must run before those libraries are imported."""
    for key, value in OFFLINE_ENV.items():
        os.environ[key] = value
