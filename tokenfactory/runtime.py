"""Build a ready-to-serve gateway (engine + store + features) from a few choices."""

from __future__ import annotations

from pathlib import Path

from . import config
from .core import Core
from .features import install_features
from .store import Store


def build_gateway(
    *,
    engine: str = "auto",
    models: list[str] | None = None,
    embedding_models: list[str] | None = None,
    database: str | Path | None = None,
) -> Core:
    """``models`` are chat model ids (default: the embedded SmolLM2); ``embedding_models``
    default to MiniLM. Pass ``models=[...]`` alone to serve only those chat models."""
    from .engine.select import create_engine

    if models is None and embedding_models is None:
        models = [config.DEFAULT_CHAT_MODEL]
        embedding_models = [config.DEFAULT_EMBEDDING_MODEL]
    chat, embed = split_models(models or [], embedding_models)
    eng = create_engine(engine, chat_models=chat, embedding_models=embed)
    gateway = Core(eng, Store(database or config.database_path()))
    install_features(gateway)
    return gateway


def split_models(models: list[str], embedding_models: list[str] | None) -> tuple[list, list]:
    """A model named in ``models`` that is a known embedding model goes to the embedding list."""
    known_embedding = {config.DEFAULT_EMBEDDING_MODEL}
    chat = [m for m in models if m not in known_embedding]
    embed = list(embedding_models or []) + [m for m in models if m in known_embedding]
    return chat, embed
