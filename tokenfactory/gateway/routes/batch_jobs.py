"""List, get and cancel batch jobs: one set of handlers for both dialects, each dialect only
choosing its paths and how a job looks (``batch.views``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel

from ...store import Principal
from ..auth import authenticate
from ..deps import batch_of
from ..responses import AUTHENTICATED


@dataclass(frozen=True)
class Dialect:
    name: str  # names the operations in /openapi.json
    path: str  # /v1/batch or /v1/batches
    view: Callable[[dict[str, Any]], BaseModel]
    item: type[BaseModel]
    page: type[BaseModel]
    cancel_method: str  # DELETE {path}/{id}, or POST {path}/{id}/cancel
    cancel_suffix: str = ""


@dataclass
class PageQuery:
    """``?limit=&after=``: a page of jobs, newest first, after the job with id ``after``."""

    limit: int = Query(20, description="1 to 100")
    after: str | None = Query(None, description="the id of the last job of the previous page")


def job_routes(d: Dialect) -> APIRouter:
    router = APIRouter(responses=AUTHENTICATED)

    @router.get(d.path, response_model=d.page, operation_id=f"list_{d.name}_batches")
    async def list_batches(
        request: Request, page: PageQuery = Depends(), principal: Principal = Depends(authenticate)
    ) -> BaseModel:
        jobs, more = batch_of(request).list(principal, page.limit, page.after)
        return d.page(
            data=[d.view(j) for j in jobs],
            first_id=jobs[0]["id"] if jobs else None,
            last_id=jobs[-1]["id"] if jobs else None,
            has_more=more,
        )

    @router.get(f"{d.path}/{{batch_id}}", response_model=d.item, operation_id=f"get_{d.name}_batch")
    async def get_batch(
        batch_id: str, request: Request, principal: Principal = Depends(authenticate)
    ) -> BaseModel:
        return d.view(batch_of(request).get(principal, batch_id))

    @router.api_route(
        f"{d.path}/{{batch_id}}{d.cancel_suffix}",
        methods=[d.cancel_method],
        response_model=d.item,
        operation_id=f"cancel_{d.name}_batch",
    )
    async def cancel_batch(
        batch_id: str, request: Request, principal: Principal = Depends(authenticate)
    ) -> BaseModel:
        return d.view(batch_of(request).cancel(principal, batch_id))

    return router
