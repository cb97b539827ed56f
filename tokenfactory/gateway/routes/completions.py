"""POST /v1/completions"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import StreamingResponse

from ...services.completions import CompletionService
from ...store import Principal
from ...wire.completions import Completion, CompletionRequest
from ..auth import authenticate
from ..metering import admit, gateway_of, metered_stream, record
from ..sse import sse_events

router = APIRouter()


@router.post("/v1/completions", response_model=None)
async def create_completion(
    body: CompletionRequest,
    request: Request,
    response: Response,
    principal: Principal = Depends(authenticate),
) -> Completion | StreamingResponse:
    gw = gateway_of(request)
    service = CompletionService(gw.engine, lambda m, k: gw.resolve_model(m, k, principal))
    prepared = service.prepare(body)
    endpoint = "/v1/completions"
    headers = await admit(
        request, response, principal, endpoint, body.model, "realtime", prepared.estimated_tokens
    )
    if body.stream:
        chunks = metered_stream(
            service.stream(prepared),
            request,
            principal,
            endpoint,
            body.model,
            "realtime",
            prepared.results,
        )
        return StreamingResponse(
            sse_events(chunks), media_type="text/event-stream", headers=headers
        )
    completion = await service.complete(prepared)
    await record(request, principal, endpoint, body.model, "realtime", prepared.results)
    return completion
