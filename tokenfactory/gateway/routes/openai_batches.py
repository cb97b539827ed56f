"""OpenAI's batch dialect on the same jobs: ``/v1/files`` and ``/v1/batches``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel

from ...batch.files import stream_file
from ...batch.views import file_view, list_page, openai_view
from ...store import Principal
from ..auth import authenticate
from ..deps import batch_of
from .batch import upload_field

router = APIRouter()


class CreateBatch(BaseModel):
    input_file_id: str
    endpoint: str
    completion_window: str = "24h"
    metadata: dict[str, Any] | None = None


@router.post("/v1/files")
async def create_file(request: Request, principal: Principal = Depends(authenticate)) -> dict:
    service = batch_of(request)
    data, filename, fields = await upload_field(request, service.limits.max_bytes)
    return file_view(service.upload(principal, data, filename, fields.get("purpose", "")))


@router.get("/v1/files")
async def list_files(
    request: Request, purpose: str | None = None, principal: Principal = Depends(authenticate)
) -> dict:
    rows = batch_of(request).repo.files(principal.workspace.id, purpose)
    return {"object": "list", "data": [file_view(r) for r in rows], "has_more": False}


@router.get("/v1/files/{file_id}")
async def get_file(
    file_id: str, request: Request, principal: Principal = Depends(authenticate)
) -> dict:
    return file_view(batch_of(request).file(principal, file_id))


@router.get("/v1/files/{file_id}/content")
async def file_content(
    file_id: str, request: Request, principal: Principal = Depends(authenticate)
) -> StreamingResponse:
    row = batch_of(request).file(principal, file_id)
    return StreamingResponse(stream_file(row["path"]), media_type="application/jsonl")


@router.post("/v1/batches")
async def create_batch(
    body: CreateBatch, request: Request, principal: Principal = Depends(authenticate)
) -> dict:
    job = batch_of(request).submit_file(
        principal, body.input_file_id, body.endpoint, body.completion_window, body.metadata
    )
    return openai_view(job)


@router.get("/v1/batches")
async def list_batches(
    request: Request,
    limit: int = 20,
    after: str | None = None,
    principal: Principal = Depends(authenticate),
) -> dict:
    jobs, more = batch_of(request).list(principal, limit, after)
    return list_page([openai_view(j) for j in jobs], more)


@router.get("/v1/batches/{batch_id}")
async def get_batch(
    batch_id: str, request: Request, principal: Principal = Depends(authenticate)
) -> dict:
    return openai_view(batch_of(request).get(principal, batch_id))


@router.post("/v1/batches/{batch_id}/cancel")
async def cancel_batch(
    batch_id: str, request: Request, principal: Principal = Depends(authenticate)
) -> dict:
    return openai_view(batch_of(request).cancel(principal, batch_id))
