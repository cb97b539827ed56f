"""Build a ready-to-serve application core (engine + store + features) from a few choices."""

from __future__ import annotations

from pathlib import Path

from . import config
from .core import Core
from .engine.select import Workload
from .extras import require_extra
from .features import install_features
from .store import Store


def build_core(
    *,
    engine: str = "auto",
    models: list[str] | None = None,
    embedding_models: list[str] | None = None,
    database: str | Path | None = None,
    upstreams: list | None = None,
    workload: Workload = "notebook",
    enable_lora: bool | None = None,
    aliases: dict[str, str] | None = None,
) -> Core:
    """``models`` are chat model ids (default: the embedded SmolLM2); ``embedding_models``
    default to MiniLM. Pass ``models=[...]`` alone to serve only those chat models.
    ``workload`` (``"notebook"`` or ``"server"``) and ``enable_lora`` go to
    :func:`tokenfactory.engine.select.create_engine`.
    ``upstreams`` (``UpstreamSpec``s) add remote models; with them and no models, no local
    model is loaded."""
    from .engine.select import create_engine

    require_extra("server", "A gateway (tf.serve(), `tokenfactory serve`)")
    if upstreams and models is None and embedding_models is None:
        from .remote.no_engine import NoLocalEngine

        core = Core(NoLocalEngine(), Store(database or config.database_path()))
        install_features(core)
        return _with_aliases(_with_upstreams(core, upstreams), aliases)
    if models is None and embedding_models is None:
        models = [config.DEFAULT_CHAT_MODEL]
        embedding_models = [config.DEFAULT_EMBEDDING_MODEL]
    chat, embed = split_models(models or [], embedding_models)
    require_extra("engine", "Serving models on this machine (tf.serve(), `tokenfactory serve`)")
    eng = create_engine(
        engine,
        chat_models=chat,
        embedding_models=embed,
        workload=workload,
        enable_lora=enable_lora,
    )
    core = Core(eng, Store(database or config.database_path()))
    install_features(core)
    return _with_aliases(_with_upstreams(core, upstreams), aliases)


def _with_aliases(core: Core, aliases: dict[str, str] | None) -> Core:
    core.aliases.update(aliases or {})
    return core


def _with_upstreams(core: Core, upstreams: list | None) -> Core:
    if upstreams:
        from .remote import install
        from .remote.config import health_interval_s

        install(core, upstreams, health_interval_s())
    return core


def split_models(models: list[str], embedding_models: list[str] | None) -> tuple[list, list]:
    """A model named in ``models`` that is a known embedding model goes to the embedding list."""
    known_embedding = {config.DEFAULT_EMBEDDING_MODEL}
    chat = [m for m in models if m not in known_embedding]
    embed = list(embedding_models or []) + [m for m in models if m in known_embedding]
    return chat, embed
