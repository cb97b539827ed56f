"""POST /v1/chat/completions"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import StreamingResponse

from ...services.chat import ChatService
from ...store import Principal
from ...wire.chat import ChatCompletion, ChatCompletionRequest
from ..auth import authenticate
from ..metering import admit, gateway_of, metered_stream, record
from ..sse import sse_events

router = APIRouter()


def chat_service(request: Request, principal: Principal) -> ChatService:
    gw = gateway_of(request)
    return ChatService(gw.engine, lambda model, kind: gw.resolve_model(model, kind, principal))


@router.post("/v1/chat/completions", response_model=None)
async def create_chat_completion(
    body: ChatCompletionRequest,
    request: Request,
    response: Response,
    principal: Principal = Depends(authenticate),
) -> ChatCompletion | StreamingResponse:
    service = chat_service(request, principal)
    prepared = service.prepare(body)
    endpoint = "/v1/chat/completions"
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
            [prepared.result],
        )
        return StreamingResponse(
            sse_events(chunks), media_type="text/event-stream", headers=headers
        )
    completion = await service.complete(prepared)
    await record(request, principal, endpoint, body.model, "realtime", [prepared.result])
    return completion
