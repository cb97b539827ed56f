"""The engine of a gateway that serves only remote models: no local model, nothing loaded."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from ..engine.protocol import EngineHealth, GenerationOutput, GenerationRequest, ModelInfo
from ..errors import InvalidRequestError, ModelNotFoundError

NAME = "none"


class NoLocalEngine:
    name = NAME

    async def start(self) -> None:
        return None

    def generate(self, request: GenerationRequest) -> AsyncIterator[GenerationOutput]:
        raise ModelNotFoundError(f"The model '{request.model}' does not exist", param="model")

    async def abort(self, request_id: str) -> None:
        return None

    async def embed(self, model: str, texts: list[str]) -> Any:
        raise ModelNotFoundError(f"The model '{model}' does not exist", param="model")

    def tokenizer(self, model: str) -> Any:
        raise ModelNotFoundError(f"The model '{model}' does not exist", param="model")

    def models(self) -> list[ModelInfo]:
        return []

    async def load_model(self, model: str) -> ModelInfo:
        raise InvalidRequestError(
            "This gateway serves remote models only (started with upstreams and no --model)",
            code="no_local_engine",
        )

    async def unload_model(self, model: str) -> None:
        raise ModelNotFoundError(f"The model '{model}' is not loaded here", param="model")

    async def load_adapter(self, name: str, path: str, base_model: str) -> None:
        raise InvalidRequestError(
            "This gateway has no local engine to load an adapter on", code="no_local_engine"
        )

    async def unload_adapter(self, name: str) -> None:
        raise ModelNotFoundError(f"The adapter '{name}' is not loaded here", param="model")

    def adapters(self) -> dict[str, str]:
        return {}

    def health(self) -> EngineHealth:
        return EngineHealth(ready=True, engine=NAME, device="none", models=[])

    async def sleep(self) -> None:
        return None

    async def wake(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None
