"""Adapters that let other frameworks use the knowledge base and the answer pipeline (``langchain``).

Each adapter takes an ``Assistant`` built by ``assistant.app.build_assistant``, the one composition root, and keeps
the framework's types inside its own module: the rest of the package speaks our dataclasses.
"""
