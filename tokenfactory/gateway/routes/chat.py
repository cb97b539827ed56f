"""POST /v1/chat/completions"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import StreamingResponse

from ...core.endpoints import CHAT
from ...store import Principal
from ...wire.chat import ChatCompletion, ChatCompletionRequest
from ..auth import authenticate
from ..deps import core_of
from ..responses import METERED
from ..service_calls import http_call, respond

router = APIRouter(responses=METERED)


@router.post(CHAT.path, response_model=CHAT.response)
async def create_chat_completion(
    body: ChatCompletionRequest,
    request: Request,
    response: Response,
    principal: Principal = Depends(authenticate),
) -> ChatCompletion | StreamingResponse:
    call = http_call(request, principal, CHAT)
    run = await core_of(request).service(CHAT).start(body, call)
    return await respond(run, response, body.stream)
