"""Where tokenfactory keeps its state, and the embedded default model ids."""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT_CHAT_MODEL = "HuggingFaceTB/SmolLM2-135M-Instruct"
DEFAULT_EMBEDDING_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
DEFAULT_WORKSPACE = "default"
#: Output tokens a chat or completions request may generate when it names no max_tokens.
DEFAULT_MAX_TOKENS = 1024


def home() -> Path:
    """The data directory: ``$TOKENFACTORY_HOME``, else the user's data dir."""
    env = os.environ.get("TOKENFACTORY_HOME")
    if env:
        path = Path(env).expanduser()
    else:
        from platformdirs import user_data_dir

        path = Path(user_data_dir("tokenfactory", appauthor=False))
    path.mkdir(parents=True, exist_ok=True)
    return path


def model_cache_dir() -> Path:
    """Converted model copies (e.g. the GGUF default as safetensors).

    Shared across data directories unless ``TOKENFACTORY_MODEL_CACHE`` says otherwise, so a
    fresh ``TOKENFACTORY_HOME`` (as in tests) does not convert the model again.
    """
    env = os.environ.get("TOKENFACTORY_MODEL_CACHE")
    if env:
        path = Path(env).expanduser()
    else:
        from platformdirs import user_cache_dir

        path = Path(user_cache_dir("tokenfactory", appauthor=False)) / "models"
    path.mkdir(parents=True, exist_ok=True)
    return path


def database_path() -> Path:
    return home() / "tokenfactory.sqlite3"
