"""POST /v1/chat/completions"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import StreamingResponse

from ...remote.gateway_glue import run_remote, serves
from ...services.chat import ChatService
from ...store import Principal
from ...wire.chat import ChatCompletion, ChatCompletionRequest
from ..auth import authenticate
from ..metering import gateway_of, run_generation

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
    if serves(request, body.model):
        return await run_remote(request, response, principal, "/v1/chat/completions", body)
    service = chat_service(request, principal)
    prepared = service.prepare(body)
    return await run_generation(
        request,
        response,
        principal,
        "/v1/chat/completions",
        body,
        service,
        prepared,
        [prepared.result],
    )
