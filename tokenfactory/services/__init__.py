"""Inference: chat, completions and embeddings over an engine, with no HTTP in them.

``install(core)`` registers each service for its endpoint (``core.endpoints``); whoever
assembles the application calls it (``tokenfactory.features``, ``gateway.app.create_app``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..core import Core


def install(core: Core) -> None:
    """Register the chat, completions and embeddings services (once per core)."""
    from ..core.endpoints import CHAT, COMPLETIONS, EMBEDDINGS
    from .chat import ChatService
    from .completions import CompletionService
    from .embeddings import EmbeddingService

    if not core.serves(CHAT):
        core.serve(CHAT, ChatService(core))
    if not core.serves(COMPLETIONS):
        core.serve(COMPLETIONS, CompletionService(core))
    if not core.serves(EMBEDDINGS):
        core.serve(EMBEDDINGS, EmbeddingService(core))
