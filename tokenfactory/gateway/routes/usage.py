"""GET /v1/usage and /v1/usage/timeseries: the caller's workspace only."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from ...store import Principal
from ...usage import reports
from ..auth import authenticate
from ..deps import usage_of

router = APIRouter()


@router.get("/v1/usage")
async def get_usage(
    request: Request,
    start: str | None = None,
    end: str | None = None,
    group_by: str | None = None,
    model: str | None = None,
    tier: str | None = None,
    principal: Principal = Depends(authenticate),
) -> dict:
    records = usage_of(request)
    return reports.summary(
        records,
        principal.workspace,
        start=start,
        end=end,
        group_by=group_by,
        model=model,
        tier=tier,
    )


@router.get("/v1/usage/timeseries")
async def get_usage_timeseries(
    request: Request,
    bucket: str = "hour",
    start: str | None = None,
    end: str | None = None,
    model: str | None = None,
    tier: str | None = None,
    principal: Principal = Depends(authenticate),
) -> dict:
    records = usage_of(request)
    return reports.timeseries(
        records, principal.workspace, bucket=bucket, start=start, end=end, model=model, tier=tier
    )
