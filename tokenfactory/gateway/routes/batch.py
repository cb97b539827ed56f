"""The seed's batch dialect: ``/v1/batch`` (multipart upload with an SLA)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, UploadFile
from fastapi.responses import StreamingResponse

from ...batch.views import list_page, seed_view
from ...errors import InvalidRequestError
from ...store import Principal
from ..auth import authenticate
from ..deps import batch_of

router = APIRouter()


async def read_upload(upload: UploadFile, max_bytes: int) -> bytes:
    """Read at most ``max_bytes`` (+1, to tell a too-large file apart)."""
    chunks, size = [], 0
    while chunk := await upload.read(1024 * 1024):
        chunks.append(chunk)
        size += len(chunk)
        if size > max_bytes:
            raise InvalidRequestError(
                f"The file is larger than the limit of {max_bytes} bytes",
                param="file",
                code="file_too_large",
            )
    return b"".join(chunks)


async def upload_field(request: Request, max_bytes: int) -> tuple[bytes, str, dict[str, str]]:
    """The multipart ``file`` (bytes, filename) and the other form fields."""
    content_type = request.headers.get("content-type", "")
    if not content_type.startswith("multipart/form-data"):
        raise InvalidRequestError(
            "Send the batch as multipart/form-data with a 'file' field (curl -F file=@...)",
            param="file",
        )
    form = await request.form()
    upload = form.get("file")
    if upload is None or isinstance(upload, str):
        raise InvalidRequestError("Missing required parameter: 'file'", param="file")
    data = await read_upload(upload, max_bytes)
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    return data, upload.filename or "batch.jsonl", fields


@router.post("/v1/batch")
async def create_batch(request: Request, principal: Principal = Depends(authenticate)) -> dict:
    service = batch_of(request)
    data, filename, fields = await upload_field(request, service.limits.max_bytes)
    job = service.submit(
        principal, data, fields.get("sla"), filename=filename, endpoint=fields.get("endpoint")
    )
    view = seed_view(job)
    return {k: view[k] for k in ("id", "object", "status", "created_at", "total_requests", "sla")}


@router.get("/v1/batch")
async def list_batches(
    request: Request,
    limit: int = 20,
    after: str | None = None,
    principal: Principal = Depends(authenticate),
) -> dict:
    jobs, more = batch_of(request).list(principal, limit, after)
    return list_page([seed_view(j) for j in jobs], more)


@router.get("/v1/batch/{batch_id}")
async def get_batch(
    batch_id: str, request: Request, principal: Principal = Depends(authenticate)
) -> dict:
    return seed_view(batch_of(request).get(principal, batch_id))


@router.get("/v1/batch/{batch_id}/results")
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


@router.delete("/v1/batch/{batch_id}")
async def cancel_batch(
    batch_id: str, request: Request, principal: Principal = Depends(authenticate)
) -> dict:
    return seed_view(batch_of(request).cancel(principal, batch_id))
