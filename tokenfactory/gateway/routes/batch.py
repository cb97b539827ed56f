"""The SLA batch dialect: ``/v1/batch`` (multipart upload with an SLA)."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Depends, Request
from fastapi.responses import StreamingResponse

from ...batch.views import sla_view
from ...store import Principal
from ...wire.batches import SlaBatch, SlaBatchCreated, SlaBatchList
from ..auth import authenticate
from ..deps import batch_of
from ..responses import AUTHENTICATED, JSONL, METERED, multipart_upload
from ..uploads import upload_field
from .batch_jobs import Dialect, job_routes

router = APIRouter(responses=AUTHENTICATED)
SLA = Dialect("sla", "/v1/batch", sla_view, SlaBatch, SlaBatchList, "DELETE")


@router.post(
    "/v1/batch",
    response_model=SlaBatchCreated,
    responses=METERED,
    openapi_extra=multipart_upload("sla", "endpoint"),
)
async def create_batch(
    request: Request, principal: Principal = Depends(authenticate)
) -> SlaBatchCreated:
    service = batch_of(request)
    data, filename, fields = await upload_field(request, service.limits.max_bytes)
    # parses, validates and counts every line's tokens (the wallet check): on a worker thread
    job = await asyncio.to_thread(
        service.submit,
        principal,
        data,
        fields.get("sla"),
        filename=filename,
        endpoint=fields.get("endpoint"),
    )
    view = sla_view(job)
    return SlaBatchCreated(
        id=view.id,
        status=view.status,
        created_at=view.created_at,
        total_requests=view.total_requests,
        sla=view.sla,
    )


@router.get(
    "/v1/batch/{batch_id}/results",
    response_class=StreamingResponse,
    responses={**AUTHENTICATED, **JSONL},
)
async def batch_results(
    batch_id: str, request: Request, principal: Principal = Depends(authenticate)
) -> StreamingResponse:
    service = batch_of(request)
    service.get(principal, batch_id)  # 404 before the stream starts
    return StreamingResponse(
        service.results(principal, batch_id),
        media_type="application/jsonl",
        headers={"content-disposition": f'attachment; filename="{batch_id}_results.jsonl"'},
    )


router.include_router(job_routes(SLA))
