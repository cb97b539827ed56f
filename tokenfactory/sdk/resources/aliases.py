"""``client.admin.aliases``: the gateway's model aliases (admin key only; docs/aliases-and-cors.md).

client.admin.aliases.set("gpt-4o-mini", "HuggingFaceTB/SmolLM2-135M-Instruct")
client.chat.completions.create(model="gpt-4o-mini", ...)   # answered by SmolLM2
client.admin.aliases.list()                                 # alias -> model
client.admin.aliases.delete("gpt-4o-mini")
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import quote

from typing_extensions import Unpack

from tokenfactory.wire import models as wire

from .._request import APIRequest, RequestOptions, split_options
from .._resource import AsyncAPIResource, SyncAPIResource
from ..types import ResponseMeta


class ModelAlias(ResponseMeta, wire.ModelAlias):
    pass


class ModelAliasList(ResponseMeta, wire.ModelAliasList):
    data: list[ModelAlias]  # type: ignore[assignment]  # the SDK's own alias type

    def __iter__(self) -> Iterator[ModelAlias]:  # type: ignore[override]  # the aliases
        return iter(self.data)

    def __len__(self) -> int:
        return len(self.data)

    def as_dict(self) -> dict[str, str]:
        """alias -> model"""
        return {a.alias: a.model for a in self.data}


def alias_path(name: str) -> str:
    return "/admin/aliases/" + quote(name, safe="/")


def _set(name: str, model: str, options: RequestOptions) -> APIRequest[ModelAlias]:
    fields, opts = split_options({"model": model, **options})
    return APIRequest("PUT", alias_path(name), ModelAlias, body=fields, options=opts)


def _delete(name: str, options: RequestOptions) -> APIRequest[ModelAlias]:
    _, opts = split_options(options)
    return APIRequest("DELETE", alias_path(name), ModelAlias, options=opts)


class ModelAliases(SyncAPIResource):
    def list(self, **options: Unpack[RequestOptions]) -> ModelAliasList:
        return self._get("/admin/aliases", cast_to=ModelAliasList, params=options)

    def set(self, name: str, model: str, **options: Unpack[RequestOptions]) -> ModelAlias:
        """Answer requests for ``name`` with the served ``model`` (replaces an alias of that
        name); a 400 when ``model`` is not served or ``name`` is a served model's id."""
        return self._client.request(_set(name, model, options))

    def delete(self, name: str, **options: Unpack[RequestOptions]) -> ModelAlias:
        return self._client.request(_delete(name, options))


class AsyncModelAliases(AsyncAPIResource):
    async def list(self, **options: Unpack[RequestOptions]) -> ModelAliasList:
        return await self._get("/admin/aliases", cast_to=ModelAliasList, params=options)

    async def set(self, name: str, model: str, **options: Unpack[RequestOptions]) -> ModelAlias:
        return await self._client.request(_set(name, model, options))

    async def delete(self, name: str, **options: Unpack[RequestOptions]) -> ModelAlias:
        return await self._client.request(_delete(name, options))
