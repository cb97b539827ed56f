"""OpenAI's batch dialect on the same jobs: ``/v1/files`` and ``/v1/batches``."""

from __future__ import annotations

import asyncio
from typing import Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse

from ...batch.files import stream_file
from ...batch.views import file_view, openai_view
from ...lora.dataset import parse_jsonl
from ...store import Principal
from ...wire.batches import (
    CreateBatchRequest,
    FileDeleted,
    FileList,
    FileObject,
    OpenAIBatch,
    OpenAIBatchList,
)
from ..auth import authenticate
from ..deps import batch_of
from ..json_body import off_loop_if_large
from ..responses import AUTHENTICATED, JSONL, METERED, multipart_upload
from ..uploads import upload_field
from .batch_jobs import Dialect, job_routes

router = APIRouter(responses=AUTHENTICATED)
OPENAI = Dialect(
    "openai", "/v1/batches", openai_view, OpenAIBatch, OpenAIBatchList, "POST", "/cancel"
)


@router.post("/v1/files", response_model=FileObject, openapi_extra=multipart_upload("purpose"))
async def create_file(request: Request, principal: Principal = Depends(authenticate)) -> FileObject:
    service = batch_of(request)
    data, filename, fields = await upload_field(request, service.limits.max_bytes)
    purpose = fields.get("purpose", "")
    if purpose == "fine-tune":  # chat JSONL: every bad line named now, not when training starts
        await off_loop_if_large(len(data), parse_jsonl, data, minimum=1, purpose="training")
    return file_view(service.upload(principal, data, filename, purpose))


@router.get("/v1/files", response_model=FileList)
async def list_files(
    request: Request,
    purpose: str | None = Query(None),
    limit: int = Query(10_000, ge=1, le=10_000),
    after: str | None = Query(None),
    order: Literal["asc", "desc"] = Query("desc"),
    principal: Principal = Depends(authenticate),
) -> FileList:
    rows = batch_of(request).repo.files(
        principal.workspace.id, purpose, limit=limit + 1, after=after, order=order
    )
    page = [file_view(r) for r in rows[:limit]]
    return FileList(
        data=page,
        first_id=page[0].id if page else None,
        last_id=page[-1].id if page else None,
        has_more=len(rows) > limit,
    )


@router.delete("/v1/files/{file_id}", response_model=FileDeleted)
async def delete_file(
    file_id: str, request: Request, principal: Principal = Depends(authenticate)
) -> FileDeleted:
    row = batch_of(request).delete_file(principal, file_id)
    return FileDeleted(id=row["id"])


@router.get("/v1/files/{file_id}", response_model=FileObject)
async def get_file(
    file_id: str, request: Request, principal: Principal = Depends(authenticate)
) -> FileObject:
    return file_view(batch_of(request).file(principal, file_id))


@router.get("/v1/files/{file_id}/content", response_class=StreamingResponse, responses=JSONL)
async def file_content(
    file_id: str, request: Request, principal: Principal = Depends(authenticate)
) -> StreamingResponse:
    row = batch_of(request).file(principal, file_id)
    return StreamingResponse(stream_file(row["path"]), media_type="application/jsonl")


@router.post("/v1/batches", response_model=OpenAIBatch, responses=METERED)
async def create_batch(
    body: CreateBatchRequest, request: Request, principal: Principal = Depends(authenticate)
) -> OpenAIBatch:
    # reads and validates the whole file: on a worker thread, whatever its size
    job = await asyncio.to_thread(
        batch_of(request).submit_file,
        principal,
        body.input_file_id,
        body.endpoint,
        body.completion_window,
        body.metadata,
    )
    return openai_view(job)


router.include_router(job_routes(OPENAI))
