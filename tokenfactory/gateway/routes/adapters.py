"""/v1/adapters: create, upload data, train, cancel, follow, import, delete LoRA adapters.

Also the seed's creation path ``POST /api/dashboard/token-factory/lora`` and
``DELETE /v1/models/{adapter}``. The logic lives in ``tokenfactory.lora.service``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import APIRouter, Depends, Request

from ...errors import InvalidRequestError, ModelNotFoundError
from ...lora.wire import (
    Adapter,
    AdapterEvent,
    AdapterEventList,
    AdapterList,
    DeletedAdapter,
    adapter_view,
)
from ...store import Principal
from ...wire.adapters import AdapterCreate, AdapterImport, TrainAdapter
from ..auth import authenticate, require_admin
from ..deps import core_of, lora_of
from ..json_body import off_loop_if_large
from ..responses import ADMIN, AUTHENTICATED, multipart_upload

if TYPE_CHECKING:
    from ...lora.repository import AdapterRecord

router = APIRouter(responses=AUTHENTICATED)
JSONL_TYPES = ("application/jsonl", "application/x-ndjson", "application/json", "text/")
#: chat JSONL, as a multipart ``file`` or as the raw body
TRAINING_FILE = multipart_upload("purpose")
TRAINING_FILE["requestBody"]["content"]["application/jsonl"] = {"schema": {"type": "string"}}


def view(request: Request, record: AdapterRecord) -> Adapter:
    return adapter_view(record, lora_of(request).is_loaded(record))


@router.post("/v1/adapters")
@router.post("/api/dashboard/token-factory/lora")
async def create_adapter(
    body: AdapterCreate, request: Request, principal: Principal = Depends(authenticate)
) -> Adapter:
    record = lora_of(request).create(principal, body)
    return view(request, record)


@router.get("/v1/adapters")
async def list_adapters(
    request: Request, principal: Principal = Depends(authenticate)
) -> AdapterList:
    return AdapterList(data=[view(request, r) for r in lora_of(request).list(principal)])


@router.post("/v1/adapters/import", responses=ADMIN)
async def import_adapter(
    body: AdapterImport, request: Request, principal: Principal = Depends(require_admin)
) -> Adapter:
    """Reads a folder on the server's disk, so only an admin may (never the data directory)."""
    if body.workspace is not None:
        workspace = core_of(request).keys.workspace(body.workspace)
        principal = Principal(workspace, principal.key_id, is_admin=False)
    record = await lora_of(request).import_adapter(principal, body)
    return view(request, record)


@router.get("/v1/adapters/{name}")
async def get_adapter(
    name: str, request: Request, principal: Principal = Depends(authenticate)
) -> Adapter:
    return view(request, lora_of(request).get(principal, name))


@router.delete("/v1/adapters/{name}")
async def delete_adapter(
    name: str, request: Request, principal: Principal = Depends(authenticate)
) -> DeletedAdapter:
    record = await lora_of(request).delete(principal, name)
    return DeletedAdapter(id=record.id, name=record.name)


@router.delete("/v1/models/{model_id:path}")
async def delete_model(
    model_id: str, request: Request, principal: Principal = Depends(authenticate)
) -> DeletedAdapter:
    service = lora_of(request)
    if service.repository.find(principal.workspace.id, model_id) is None:
        raise ModelNotFoundError(
            f"'{model_id}' is not a fine-tuned model of this workspace; base models cannot be"
            " deleted",
            param="model",
        )
    record = await service.delete(principal, model_id)
    return DeletedAdapter(id=record.id, name=record.name)


async def _upload_bytes(request: Request) -> tuple[bytes, str | None]:
    """The JSONL of an upload: a multipart ``file`` field, or the raw body."""
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("multipart/form-data"):
        form = await request.form()
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            raise InvalidRequestError("Missing required parameter: 'file'", param="file")
        purpose = form.get("purpose")
        return await upload.read(), purpose if isinstance(purpose, str) else None
    if content_type and not content_type.startswith(JSONL_TYPES):
        raise InvalidRequestError(
            "Send the JSONL as multipart/form-data (field 'file') or as the request body"
            " (Content-Type: application/jsonl)",
            code="unsupported_content_type",
        )
    return await request.body(), request.query_params.get("purpose")


@router.post("/v1/adapters/{name}/training_data", openapi_extra=TRAINING_FILE)
async def upload_training_data(
    name: str, request: Request, principal: Principal = Depends(authenticate)
) -> Adapter:
    data, purpose = await _upload_bytes(request)
    return view(request, await _take_data(request, principal, name, data, purpose or "training"))


@router.post("/v1/adapters/{name}/validation_data", openapi_extra=TRAINING_FILE)
async def upload_validation_data(
    name: str, request: Request, principal: Principal = Depends(authenticate)
) -> Adapter:
    data, _ = await _upload_bytes(request)
    return view(request, await _take_data(request, principal, name, data, "validation"))


async def _take_data(
    request: Request, principal: Principal, name: str, data: bytes, purpose: str
) -> AdapterRecord:
    """Parse (on a worker thread when large), then store on the loop."""
    service = lora_of(request)
    examples = await off_loop_if_large(
        len(data), service.parse_upload, principal, name, data, purpose
    )
    return service.store_upload(principal, name, examples, purpose)


@router.post("/v1/adapters/{name}/train")
async def train_adapter(
    name: str,
    request: Request,
    body: TrainAdapter | None = None,
    principal: Principal = Depends(authenticate),
) -> Adapter:
    resume = body.resume if body is not None else False
    return view(request, lora_of(request).start(principal, name, resume=resume))


@router.post("/v1/adapters/{name}/cancel")
async def cancel_adapter(
    name: str, request: Request, principal: Principal = Depends(authenticate)
) -> Adapter:
    return view(request, await lora_of(request).cancel(principal, name))


@router.get("/v1/adapters/{name}/events")
async def adapter_events(
    name: str, request: Request, after: int = 0, principal: Principal = Depends(authenticate)
) -> AdapterEventList:
    service = lora_of(request)
    record = service.get(principal, name)
    events = service.repository.events(record.id, after)
    return AdapterEventList(data=[AdapterEvent(**e) for e in events], status=record.status)
