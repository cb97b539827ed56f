"""``client.models``: the catalog (base models and fine-tuned adapters)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from typing_extensions import Unpack

from .._request import RequestOptions
from .._resource import Resource
from ..types import DeletedModel, Model, ModelList


def model_path(model: str) -> str:
    # ids look like "provider/name": keep the slash, escape the rest
    return "/models/" + quote(model, safe="/")


class Models(Resource):
    def list(self, **options: Unpack[RequestOptions]) -> Any:
        return self._get("/models", cast_to=ModelList, **options)

    def retrieve(self, model: str, **options: Unpack[RequestOptions]) -> Any:
        return self._get(model_path(model), cast_to=Model, **options)

    def delete(self, model: str, **options: Unpack[RequestOptions]) -> Any:
        """Delete a fine-tuned model (an adapter); base models cannot be deleted."""
        return self._delete(model_path(model), cast_to=DeletedModel, **options)
