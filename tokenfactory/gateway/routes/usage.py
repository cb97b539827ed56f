"""GET /v1/usage and /v1/usage/timeseries: the caller's workspace only."""

from __future__ import annotations

import time
from dataclasses import dataclass

from fastapi import APIRouter, Depends, Query, Request

from ...store import Principal, Workspace
from ...usage import reports
from ...usage.caps import MonthlyCaps
from ...wire.usage import UsageSummary, UsageTimeseries
from ..auth import authenticate
from ..deps import core_of, usage_of
from ..responses import AUTHENTICATED

router = APIRouter(responses=AUTHENTICATED)
TIME = "YYYY-MM-DD (UTC midnight), an ISO time or Unix seconds"


@dataclass
class UsageFilter:
    """The query parameters every usage report takes (also ``/v1/admin/.../usage``)."""

    start: str | None = Query(None, description=f"from ({TIME}); default 30 days ago")
    end: str | None = Query(None, description=f"until ({TIME})")
    model: str | None = Query(None, description="only this model")
    tier: str | None = Query(None, description="only this tier (realtime, batch_1h, ...)")
    user: str | None = Query(None, description="only this end user (`user` / X-TF-User)")


def usage_summary(
    request: Request, workspace: Workspace, query: UsageFilter, group_by: str | None
) -> UsageSummary:
    summary = reports.summary(
        usage_of(request),
        workspace,
        start=query.start,
        end=query.end,
        group_by=group_by,
        model=query.model,
        tier=query.tier,
        user=query.user,
        cap=monthly_cap(request, workspace),
    )
    return UsageSummary.model_validate(summary)


def monthly_cap(request: Request, workspace: Workspace) -> dict | None:
    caps = core_of(request).installed.get(MonthlyCaps)
    status = caps.status(workspace.id, time.time()) if caps is not None else None
    if status is None:
        return None
    return {
        "tokens": status.tokens,
        "used": status.used,
        "remaining": status.remaining,
        "resets_at": int(status.resets_at),
    }


@router.get("/v1/usage", response_model=UsageSummary)
async def get_usage(
    request: Request,
    query: UsageFilter = Depends(),
    group_by: str | None = Query(
        None, description="comma-separated: day, model, tier, endpoint, user"
    ),
    principal: Principal = Depends(authenticate),
) -> UsageSummary:
    return usage_summary(request, principal.workspace, query, group_by)


@router.get("/v1/usage/timeseries", response_model=UsageTimeseries)
async def get_usage_timeseries(
    request: Request,
    query: UsageFilter = Depends(),
    bucket: str = Query("hour", description="minute, hour or day"),
    principal: Principal = Depends(authenticate),
) -> UsageTimeseries:
    series = reports.timeseries(
        usage_of(request),
        principal.workspace,
        bucket=bucket,
        start=query.start,
        end=query.end,
        model=query.model,
        tier=query.tier,
    )
    return UsageTimeseries.model_validate(series)
