"""``client.admin.prices`` (a price per model) and ``client.admin.monthly_caps`` (tokens a
calendar month per workspace), admin key only.

Prices are USD per **million** tokens. A model's price is its real-time price; the batch tiers
take their discount on top. ``client.prices(model=...)`` (any key) shows what a model is billed
at in each tier.

    client.admin.prices.set("HuggingFaceTB/SmolLM2-135M-Instruct", input=0.2, output=0.4)
    client.admin.monthly_caps.set("alice", 50_000)        # None: no cap
    client.admin.monthly_caps.retrieve("alice")           # tokens, used, remaining, resets_at
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import quote

from typing_extensions import Unpack

from tokenfactory.wire import usage as wire

from .._request import APIRequest, RequestOptions, split_options
from .._resource import AsyncAPIResource, SyncAPIResource
from ..types import ResponseMeta
from .workspaces import ws_path

MonthlyCap = wire.MonthlyCap


class ModelPrice(ResponseMeta, wire.ModelPrice):
    pass


class ModelPriceList(ResponseMeta, wire.ModelPriceList):
    """``tiers``: each tier's default price; ``data``: the models with a price of their own."""

    data: list[ModelPrice]  # type: ignore[assignment]  # the SDK's own price type

    def __iter__(self) -> Iterator[ModelPrice]:  # type: ignore[override]  # the model prices
        return iter(self.data)

    def __len__(self) -> int:
        return len(self.data)

    def price(self, model: str) -> ModelPrice | None:
        return next((p for p in self.data if p.model == model), None)


def price_path(model: str) -> str:
    return "/admin/prices/models/" + quote(model, safe="/")


def _set_price(
    model: str, input: float, output: float, options: RequestOptions
) -> APIRequest[ModelPrice]:
    fields, opts = split_options({"input": input, "output": output, **options})
    return APIRequest("PUT", price_path(model), ModelPrice, body=fields, options=opts)


def _unset_price(model: str, options: RequestOptions) -> APIRequest[ModelPriceList]:
    _, opts = split_options(options)
    return APIRequest("DELETE", price_path(model), ModelPriceList, options=opts)


def cap_path(workspace: str) -> str:
    return ws_path(workspace) + "/monthly-cap"


def _get_cap(workspace: str, options: RequestOptions) -> APIRequest[object]:
    _, opts = split_options(options)
    return APIRequest("GET", cap_path(workspace), object, options=opts)


def _set_cap(
    workspace: str, monthly_tokens: int | None, options: RequestOptions
) -> APIRequest[object]:
    fields, opts = split_options(options)
    body = {**fields, "monthly_tokens": monthly_tokens}  # null is meaningful: no cap
    return APIRequest("PUT", cap_path(workspace), object, body=body, options=opts)


def _cap(data: object) -> MonthlyCap | None:
    """The route answers ``null`` for a workspace with no cap."""
    return None if data is None else MonthlyCap.model_validate(data)


class ModelPrices(SyncAPIResource):
    def list(self, **options: Unpack[RequestOptions]) -> ModelPriceList:
        return self._get("/admin/prices", cast_to=ModelPriceList, params=options)

    def set(
        self, model: str, *, input: float, output: float, **options: Unpack[RequestOptions]
    ) -> ModelPrice:
        """Bill ``model`` at ``input``/``output`` USD per million tokens (real time)."""
        return self._client.request(_set_price(model, input, output, options))

    def delete(self, model: str, **options: Unpack[RequestOptions]) -> ModelPriceList:
        """Back to the default (the tier's price, or the packaged default for the model)."""
        return self._client.request(_unset_price(model, options))


class AsyncModelPrices(AsyncAPIResource):
    async def list(self, **options: Unpack[RequestOptions]) -> ModelPriceList:
        return await self._get("/admin/prices", cast_to=ModelPriceList, params=options)

    async def set(
        self, model: str, *, input: float, output: float, **options: Unpack[RequestOptions]
    ) -> ModelPrice:
        return await self._client.request(_set_price(model, input, output, options))

    async def delete(self, model: str, **options: Unpack[RequestOptions]) -> ModelPriceList:
        return await self._client.request(_unset_price(model, options))


class MonthlyCaps(SyncAPIResource):
    def retrieve(self, workspace: str, **options: Unpack[RequestOptions]) -> MonthlyCap | None:
        """This month's cap and use (None: the workspace has no cap)."""
        return _cap(self._client.request(_get_cap(workspace, options)))

    def set(
        self, workspace: str, monthly_tokens: int | None, **options: Unpack[RequestOptions]
    ) -> MonthlyCap | None:
        """Cap prompt + completion tokens per calendar month (UTC); ``None`` lifts the cap.
        Past it, requests get a 429 ``monthly_cap_exceeded`` until the month turns."""
        return _cap(self._client.request(_set_cap(workspace, monthly_tokens, options)))


class AsyncMonthlyCaps(AsyncAPIResource):
    async def retrieve(
        self, workspace: str, **options: Unpack[RequestOptions]
    ) -> MonthlyCap | None:
        return _cap(await self._client.request(_get_cap(workspace, options)))

    async def set(
        self, workspace: str, monthly_tokens: int | None, **options: Unpack[RequestOptions]
    ) -> MonthlyCap | None:
        return _cap(await self._client.request(_set_cap(workspace, monthly_tokens, options)))


__all__ = [
    "AsyncModelPrices",
    "AsyncMonthlyCaps",
    "ModelPrice",
    "ModelPriceList",
    "ModelPrices",
    "MonthlyCap",
    "MonthlyCaps",
]
