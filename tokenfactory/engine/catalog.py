"""The model catalog: every model an engine knows, with its status, as one thread-safe table.

Engines update it as models load and fail; the gateway reads it for ``/v1/models`` (through
:func:`to_wire`) and resolves request model ids with :func:`resolve_model`.
"""

from __future__ import annotations

import threading
from dataclasses import replace
from typing import Any

from ..errors import InvalidRequestError, ModelLoadingError, ModelNotFoundError
from ..wire.models import Model
from .protocol import ModelInfo


def provider_of(model_id: str) -> str | None:
    return model_id.split("/", 1)[0] if "/" in model_id else None


class ModelCatalog:
    def __init__(self, engine: str) -> None:
        self.engine = engine
        self._entries: dict[str, ModelInfo] = {}
        self._lock = threading.Lock()

    def register(self, model_id: str, modality: str, status: str = "available", **fields: Any):
        with self._lock:
            current = self._entries.get(model_id)
            if current is None:
                current = ModelInfo(model_id, modality, status, self.engine)
            self._entries[model_id] = replace(current, modality=modality, status=status, **fields)
            return self._entries[model_id]

    def update(self, model_id: str, **fields: Any) -> ModelInfo:
        with self._lock:
            self._entries[model_id] = replace(self._entries[model_id], **fields)
            return self._entries[model_id]

    def get(self, model_id: str) -> ModelInfo | None:
        with self._lock:
            return self._entries.get(model_id)

    def remove(self, model_id: str) -> None:
        with self._lock:
            self._entries.pop(model_id, None)

    def list(self) -> list[ModelInfo]:
        with self._lock:
            return list(self._entries.values())


def require_ready(info: ModelInfo | None, model_id: str, modality: str | None = None) -> ModelInfo:
    """The catalog entry of a model that can serve now, or the error that says why not."""
    if info is None:
        raise ModelNotFoundError(
            f"The model '{model_id}' does not exist or is not served here; GET /v1/models"
            " lists the available models"
        )
    if info.status in ("loading", "downloading"):
        raise ModelLoadingError(
            f"The model '{model_id}' is still loading; retry in a few seconds",
            headers={"Retry-After": "5"},
        )
    if info.status == "failed":
        raise ModelLoadingError(f"The model '{model_id}' failed to load: {info.error}")
    if info.status != "loaded":
        raise ModelLoadingError(
            f"The model '{model_id}' is not loaded; load it first (status: {info.status})"
        )
    if modality is not None and info.modality != modality:
        endpoint = "/v1/embeddings" if info.modality == "embedding" else "/v1/chat/completions"
        raise InvalidRequestError(
            f"The model '{model_id}' is a {info.modality} model; use {endpoint} with it",
            code="invalid_model",
            param="model",
        )
    return info


def resolve_model(engine: Any, model_id: str, modality: str) -> tuple[str, str | None]:
    """``(base model id, adapter name or None)`` for a request's ``model`` field.

    A model id names a loaded base model, or a loaded LoRA adapter (served on its base).
    """
    adapters = engine.adapters()
    if model_id in adapters:
        base = adapters[model_id]
        require_ready(_find(engine, base), base, modality)
        return base, model_id
    require_ready(_find(engine, model_id), model_id, modality)
    return model_id, None


def _find(engine: Any, model_id: str) -> ModelInfo | None:
    return next((m for m in engine.models() if m.id == model_id), None)


def to_wire(info: ModelInfo, adapters: dict[str, str] | None = None) -> list[Model]:
    """The ``/v1/models`` entries for a model and the adapters that sit on it."""
    on_it = sorted(n for n, base in (adapters or {}).items() if base == info.id)
    entries = [
        Model(
            id=info.id,
            owned_by=provider_of(info.id) or "tokenfactory",
            provider=provider_of(info.id),
            modality=info.modality,
            status=info.status,
            engine=info.engine,
            context_length=info.context_length,
            size_bytes=info.size_bytes,
            adapters=on_it,
        )
    ]
    for name in on_it:
        entries.append(
            Model(
                id=name,
                owned_by="tokenfactory",
                provider=provider_of(info.id),
                modality=info.modality,
                status=info.status,
                engine=info.engine,
                context_length=info.context_length,
                parent=info.id,
            )
        )
    return entries
