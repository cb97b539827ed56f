"""``client.models``: the catalog (base models and fine-tuned adapters)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from typing_extensions import Unpack

from .._request import RequestOptions
from .._resource import Resource
from ..types import Model, ModelList


def model_path(model: str) -> str:
    # ids look like "provider/name": keep the slash, escape the rest
    return "/models/" + quote(model, safe="/")


class Models(Resource):
    def list(self, **options: Unpack[RequestOptions]) -> Any:
        return self._get("/models", cast_to=ModelList, **options)

    def retrieve(self, model: str, **options: Unpack[RequestOptions]) -> Any:
        return self._get(model_path(model), cast_to=Model, **options)

    def load(self, model: str, **options: Unpack[RequestOptions]) -> Any:
        """Ask the engine to load a model from the catalog; returns its new status."""
        return self._post("/models/load", body={"model": model}, cast_to=Model, **options)

    def unload(self, model: str, **options: Unpack[RequestOptions]) -> Any:
        """Free a loaded model's memory; it stays in the catalog."""
        return self._post("/models/unload", body={"model": model}, cast_to=Model, **options)
