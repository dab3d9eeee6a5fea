"""Prompts are data: one versioned YAML file, rendered strictly (a missing variable is an error).

The fair-specific words come in as variables (``event``: the event profile's facts, see ``assistant/event.py``);
the file itself names no fair.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from typing import Any

import yaml
from jinja2 import Environment, StrictUndefined

_ENV = Environment(undefined=StrictUndefined, autoescape=False, trim_blocks=True, lstrip_blocks=True)


@lru_cache(maxsize=4)
def load_prompts(name: str = "answer") -> dict[str, Any]:
    text = resources.files(__package__).joinpath(f"{name}.yaml").read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    if not isinstance(data, dict) or "version" not in data:
        raise ValueError(f"prompt file {name}.yaml needs a version")
    return data


def prompt_version(name: str = "answer") -> str:
    return str(load_prompts(name)["version"])


def text(key: str, language: str, name: str = "answer") -> str:
    """A fixed sentence (refusal, notes) in a language; a sentence with variables needs ``render``."""
    value = str(load_prompts(name)[key][language])
    if "{{" in value or "{%" in value:
        raise ValueError(f"prompt {name}.yaml:{key} has variables: render it with prompts.render")
    return value.strip()


def render(key: str, language: str, name: str = "answer", **variables: Any) -> str:
    template = _ENV.from_string(str(load_prompts(name)[key][language]))
    return template.render(**variables).strip()
