"""GET /v1/prices: the gateway's price table (USD per million tokens, per usage tier), what a
client needs to forecast a run's cost before starting it."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request

from ...store import Principal
from ...wire.tokenize import PriceEntry, PriceList
from ..auth import authenticate
from ..deps import prices_of
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
    for tier in table.prices:
        price = table.price(tier, "", model)
        tiers[tier] = PriceEntry(input=float(price.input), output=float(price.output))
    models = {
        name: PriceEntry(input=float(p.input), output=float(p.output))
        for name, p in table.models.items()
    }
    return PriceList(data=tiers, models=models, model=model)
