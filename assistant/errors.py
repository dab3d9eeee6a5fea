"""The project's error family. Messages say what to do next; each edge translates them once."""

from __future__ import annotations


class AssistantError(Exception):
    """Base class: a problem a user can act on. ``str(err)`` is the message to show."""

    exit_code = 1


class ConfigError(AssistantError):
    """Settings or an optional dependency are missing or wrong."""

    exit_code = 2


class ModelNotAvailable(AssistantError):
    """A model is not in the models folder (and may not be fetched here)."""

    exit_code = 3


class IndexEmpty(AssistantError):
    """Nothing has been indexed yet."""

    exit_code = 4

    def __init__(self, message: str = "No documents indexed yet — run `assistant ingest` first.") -> None:
        super().__init__(message)


class StoreUnavailable(AssistantError):
    """The vector store (a Chroma folder or server) cannot be reached."""

    exit_code = 5


class QuestionRejected(AssistantError):
    """The question cannot be taken (empty, too long)."""

    exit_code = 6


class Busy(AssistantError):
    """More questions in flight than the server takes at once."""

    exit_code = 8


class ChatBackendError(AssistantError):
    """The chat model backend is down, too slow, or answered nothing usable."""

    exit_code = 7
