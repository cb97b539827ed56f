"""``client.embeddings``: ``create`` returns an ``EmbeddingResponse`` (``.to_numpy()``)."""

from __future__ import annotations

from typing_extensions import Unpack

from .._resource import AsyncAPIResource, SyncAPIResource
from ..types import EmbeddingResponse
from ._params import EmbeddingParams

PATH = "/embeddings"


class Embeddings(SyncAPIResource):
    def create(
        self, *, model: str, input: str | list[str], **params: Unpack[EmbeddingParams]
    ) -> EmbeddingResponse:
        """Embed one text or a list; ``.to_numpy()`` on the result gives the matrix."""
        body = {"model": model, "input": input, **params}
        return self._post(PATH, cast_to=EmbeddingResponse, body=body)


class AsyncEmbeddings(AsyncAPIResource):
    async def create(
        self, *, model: str, input: str | list[str], **params: Unpack[EmbeddingParams]
    ) -> EmbeddingResponse:
        body = {"model": model, "input": input, **params}
        return await self._post(PATH, cast_to=EmbeddingResponse, body=body)
