"""POST /v1/requests/{request_id}/cancel: stop a streaming request from another client.

``request_id`` is the ``X-Request-ID`` the streaming request was sent with. The stream ends
after the token it is sending, with ``data: [DONE]`` and no finish reason.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from ...errors import ResourceNotFoundError
from ...store import Principal
from ...wire.cancellation import RequestCancellation
from ..auth import authenticate
from ..deps import core_of
from ..responses import AUTHENTICATED

router = APIRouter(responses=AUTHENTICATED)


@router.post("/v1/requests/{request_id}/cancel", response_model=RequestCancellation)
async def cancel_request(
    request_id: str, request: Request, principal: Principal = Depends(authenticate)
) -> RequestCancellation:
    if not core_of(request).in_flight.cancel(request_id, principal):
        raise ResourceNotFoundError(f"No streaming request '{request_id}' is running")
    return RequestCancellation(id=request_id)
