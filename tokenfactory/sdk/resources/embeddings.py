"""``client.embeddings``."""

from __future__ import annotations

from typing import Any

from typing_extensions import Unpack

from .._resource import Resource
from ..types import EmbeddingResponse
from ._params import EmbeddingParams


class Embeddings(Resource):
    def create(
        self, *, model: str, input: str | list[str], **params: Unpack[EmbeddingParams]
    ) -> Any:
        """Embed one text or a list; ``.to_numpy()`` on the result gives the matrix."""
        body = {"model": model, "input": input, **params}
        return self._post("/embeddings", body=body, cast_to=EmbeddingResponse)
