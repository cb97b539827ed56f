"""``client.models``: the catalog (base models and fine-tuned adapters)."""

from __future__ import annotations

from urllib.parse import quote

from typing_extensions import Unpack

from .._request import RequestOptions
from .._resource import AsyncAPIResource, SyncAPIResource
from ..types import Model, ModelList


def model_path(model: str) -> str:
    # ids look like "provider/name": keep the slash, escape the rest
    return "/models/" + quote(model, safe="/")


class Models(SyncAPIResource):
    def list(self, **options: Unpack[RequestOptions]) -> ModelList:
        return self._get("/models", cast_to=ModelList, params=options)

    def retrieve(self, model: str, **options: Unpack[RequestOptions]) -> Model:
        return self._get(model_path(model), cast_to=Model, params=options)

    def load(self, model: str, **options: Unpack[RequestOptions]) -> Model:
        """Ask the engine to load a model from the catalog; returns its new status."""
        return self._post("/models/load", cast_to=Model, body={"model": model, **options})

    def unload(self, model: str, **options: Unpack[RequestOptions]) -> Model:
        """Free a loaded model's memory; it stays in the catalog."""
        return self._post("/models/unload", cast_to=Model, body={"model": model, **options})


class AsyncModels(AsyncAPIResource):
    async def list(self, **options: Unpack[RequestOptions]) -> ModelList:
        return await self._get("/models", cast_to=ModelList, params=options)

    async def retrieve(self, model: str, **options: Unpack[RequestOptions]) -> Model:
        return await self._get(model_path(model), cast_to=Model, params=options)

    async def load(self, model: str, **options: Unpack[RequestOptions]) -> Model:
        return await self._post("/models/load", cast_to=Model, body={"model": model, **options})

    async def unload(self, model: str, **options: Unpack[RequestOptions]) -> Model:
        return await self._post("/models/unload", cast_to=Model, body={"model": model, **options})
