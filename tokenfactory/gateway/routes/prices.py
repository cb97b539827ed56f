"""GET /v1/prices: the gateway's price table (USD per million tokens, per usage tier), what a
client needs to forecast a run's cost before starting it."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request

from ...core.app import Core
from ...store import Principal
from ...usage.prices import PriceTable
from ...wire.tokenize import PriceEntry, PriceList
from ..auth import authenticate
from ..deps import core_of, prices_of
from ..responses import AUTHENTICATED

router = APIRouter(responses=AUTHENTICATED)


@router.get("/v1/prices", response_model=PriceList)
async def prices(
    request: Request,
    model: str | None = Query(None, description="the prices this model is billed at, per tier"),
    principal: Principal = Depends(authenticate),
) -> PriceList:
    table = prices_of(request)
    tiers = {}
    for tier in tiers_for(core_of(request), model, table):
        price = table.price(tier, "", model)
        tiers[tier] = PriceEntry(input=float(price.input), output=float(price.output))
    models = {
        name: PriceEntry(input=float(p.input), output=float(p.output))
        for name, p in table.models.items()
    }
    return PriceList(data=tiers, models=models, model=model)


def tiers_for(core: Core, model: str | None, table: PriceTable) -> list[str]:
    """The tiers a model is billed at: an embedding model's is the embeddings tier, a chat
    model's are the others; every tier when no model (or an unknown one) is named."""
    info = core.find_model(core.real_model(model)) if model else None
    if info is None:
        return list(table.prices)
    if info.modality == "embedding":
        return [tier for tier in table.prices if tier == "embeddings"]
    return [tier for tier in table.prices if tier != "embeddings"]
