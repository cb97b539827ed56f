"""GET /v1/prices: the gateway's price table (USD per million tokens, per usage tier), what a
client needs to forecast a run's cost before starting it."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from ...store import Principal
from ...wire.tokenize import PriceEntry, PriceList
from ..auth import authenticate
from ..deps import prices_of
from ..responses import AUTHENTICATED

router = APIRouter(responses=AUTHENTICATED)


@router.get("/v1/prices", response_model=PriceList)
async def prices(request: Request, principal: Principal = Depends(authenticate)) -> PriceList:
    table = prices_of(request)
    return PriceList(data={tier: PriceEntry(**values) for tier, values in table.to_dict().items()})
