"""/v1/admin webhooks: endpoints per workspace, a test event, and each endpoint's delivery log.

Events (``batch.completed``, ``fine_tuning.job.succeeded``, ...) are sent signed per the
Standard Webhooks spec; see ``tokenfactory/webhooks``.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request

from ...store import Principal
from ...wire.webhooks import (
    WebhookCreate,
    WebhookDeleted,
    WebhookDelivery,
    WebhookDeliveryList,
    WebhookEndpoint,
    WebhookEndpointList,
    WebhookEvent,
)
from ..auth import require_admin
from ..deps import core_of, webhooks_of
from ..responses import ADMIN

router = APIRouter(prefix="/v1/admin", responses=ADMIN)


def endpoint_json(row: dict[str, Any]) -> WebhookEndpoint:
    return WebhookEndpoint(
        id=row["id"],
        workspace_id=row["workspace_id"],
        url=row["url"],
        events=row["events"],
        description=row["description"],
        secret=row["secret"],
        created_at=int(row["created_at"]),
    )


@router.post("/workspaces/{workspace}/webhooks", response_model=WebhookEndpoint)
async def create_webhook(
    workspace: str, body: WebhookCreate, request: Request, _: Principal = Depends(require_admin)
) -> WebhookEndpoint:
    ws = core_of(request).keys.workspace(workspace)
    row = webhooks_of(request).register(ws.id, body.url, body.events, body.description)
    return endpoint_json(row)


@router.get("/workspaces/{workspace}/webhooks", response_model=WebhookEndpointList)
async def list_webhooks(
    workspace: str, request: Request, _: Principal = Depends(require_admin)
) -> WebhookEndpointList:
    ws = core_of(request).keys.workspace(workspace)
    rows = webhooks_of(request).repo.endpoints(ws.id)
    return WebhookEndpointList(data=[endpoint_json(r) for r in rows])


@router.delete("/webhooks/{endpoint_id}", response_model=WebhookDeleted)
async def delete_webhook(
    endpoint_id: str, request: Request, _: Principal = Depends(require_admin)
) -> WebhookDeleted:
    webhooks_of(request).repo.remove_endpoint(endpoint_id)
    return WebhookDeleted(id=endpoint_id)


@router.post("/webhooks/{endpoint_id}/test", response_model=WebhookEvent)
async def test_webhook(
    endpoint_id: str, request: Request, _: Principal = Depends(require_admin)
) -> WebhookEvent:
    event = webhooks_of(request).send_test(endpoint_id)
    return WebhookEvent(**{k: v for k, v in event.items() if k != "workspace_id"})


@router.get("/webhooks/{endpoint_id}/deliveries", response_model=WebhookDeliveryList)
async def list_deliveries(
    endpoint_id: str,
    request: Request,
    limit: int = Query(100, ge=1, le=1000),
    _: Principal = Depends(require_admin),
) -> WebhookDeliveryList:
    service = webhooks_of(request)
    service.repo.endpoint(endpoint_id)  # 404 for an unknown endpoint
    rows = service.repo.deliveries(endpoint_id, limit)
    return WebhookDeliveryList(
        data=[
            WebhookDelivery(
                **{
                    k: v
                    for k, v in row.items()
                    if k not in ("endpoint_id", "payload", "next_attempt_at")
                },
                next_attempt_at=row["next_attempt_at"] if row["status"] == "pending" else None,
            )
            for row in rows
        ]
    )
