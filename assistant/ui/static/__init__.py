"""Scripts and styles of the screens, shipped with the package (nothing is loaded from elsewhere)."""

from __future__ import annotations

from functools import cache
from importlib.resources import files


@cache
def read_static(name: str) -> str:
    return files(__name__).joinpath(name).read_text(encoding="utf-8")
