"""/v1/admin prices per model and monthly token caps per workspace (admin key only).

Prices are USD per million tokens; a model's own price is its real-time price, and the batch
tiers take their discount on top (``usage/prices.py``).
"""

from __future__ import annotations

import time

from fastapi import APIRouter, Depends, Request

from ...core import need
from ...store import Principal
from ...usage.caps import MonthlyCaps
from ...usage.model_prices import ModelPriceRepository
from ...usage.prices import PriceTable, parse_price
from ...wire.tokenize import PriceEntry
from ...wire.usage import CapUpdate, ModelPrice, ModelPriceList, MonthlyCap
from ..auth import require_admin
from ..deps import core_of, prices_of
from ..responses import ADMIN

router = APIRouter(prefix="/v1/admin", responses=ADMIN)


def _prices(request: Request) -> PriceTable:
    return prices_of(request)


def _caps(request: Request) -> MonthlyCaps:
    return need(core_of(request).installed.get(MonthlyCaps), "Monthly caps")


@router.get("/prices", response_model=ModelPriceList)
async def list_model_prices(
    request: Request, _: Principal = Depends(require_admin)
) -> ModelPriceList:
    table = _prices(request)
    return ModelPriceList(
        tiers={t: PriceEntry(**v) for t, v in table.to_dict().items()},
        data=[
            ModelPrice(model=m, input=float(p.input), output=float(p.output))
            for m, p in sorted(table.models.items())
        ],
    )


@router.put("/prices/models/{model:path}", response_model=ModelPrice)
async def set_model_price(
    model: str, body: PriceEntry, request: Request, _: Principal = Depends(require_admin)
) -> ModelPrice:
    price = parse_price(body.model_dump(), f"model '{model}'")
    ModelPriceRepository(core_of(request).store).set(model, price, _prices(request))
    return ModelPrice(model=model, input=float(price.input), output=float(price.output))


@router.delete("/prices/models/{model:path}", response_model=ModelPriceList)
async def unset_model_price(
    model: str, request: Request, admin: Principal = Depends(require_admin)
) -> ModelPriceList:
    ModelPriceRepository(core_of(request).store).unset(model, _prices(request))
    return await list_model_prices(request, admin)


def cap_json(caps: MonthlyCaps, workspace_id: str) -> MonthlyCap | None:
    status = caps.status(workspace_id, time.time())
    if status is None:
        return None
    return MonthlyCap(
        tokens=status.tokens,
        used=status.used,
        remaining=status.remaining,
        resets_at=int(status.resets_at),
    )


@router.put("/workspaces/{workspace}/monthly-cap", response_model=MonthlyCap | None)
async def set_monthly_cap(
    workspace: str, body: CapUpdate, request: Request, _: Principal = Depends(require_admin)
) -> MonthlyCap | None:
    ws = core_of(request).keys.workspace(workspace)
    caps = _caps(request)
    caps.set(ws.id, body.monthly_tokens)
    return cap_json(caps, ws.id)


@router.get("/workspaces/{workspace}/monthly-cap", response_model=MonthlyCap | None)
async def get_monthly_cap(
    workspace: str, request: Request, _: Principal = Depends(require_admin)
) -> MonthlyCap | None:
    ws = core_of(request).keys.workspace(workspace)
    return cap_json(_caps(request), ws.id)
