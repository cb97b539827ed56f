"""The model catalog: every model an engine knows, with its status, as one thread-safe table.

Engines update it as models load and fail; ``Engine.models()`` reads it, and
:func:`require_ready` turns a model that cannot serve now into the error that says why.
"""

from __future__ import annotations

import threading
from dataclasses import replace
from typing import Any

from ..errors import ModelLoadingError, ModelNotFoundError
from .protocol import Modality, ModelInfo, ModelStatus


class ModelCatalog:
    def __init__(self, engine: str) -> None:
        self.engine = engine
        self._entries: dict[str, ModelInfo] = {}
        self._lock = threading.Lock()

    def register(
        self, model_id: str, modality: Modality, status: ModelStatus = "available", **fields: Any
    ) -> ModelInfo:
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
    # the services resolve a request's model for its endpoint's modality first (the 400 that
    # names the endpoint to use is Core.resolve_model's): here it is only asserted
    assert modality is None or info.modality == modality, (model_id, info.modality, modality)
    return info


def a_modality(modality: str) -> str:
    """``"a chat"``, ``"an embedding"``: the modality with its article."""
    return ("an " if modality[:1].lower() in "aeiou" else "a ") + modality
