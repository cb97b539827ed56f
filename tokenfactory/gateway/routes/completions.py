"""POST /v1/completions"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import StreamingResponse

from ...core.endpoints import COMPLETIONS
from ...store import Principal
from ...wire.completions import Completion, CompletionRequest
from ..auth import authenticate
from ..deps import core_of
from ..responses import METERED
from ..service_calls import http_call, respond

router = APIRouter(responses=METERED)


@router.post(COMPLETIONS.path, response_model=COMPLETIONS.response)
async def create_completion(
    body: CompletionRequest,
    request: Request,
    response: Response,
    principal: Principal = Depends(authenticate),
) -> Completion | StreamingResponse:
    call = http_call(request, principal, COMPLETIONS)
    run = await core_of(request).service(COMPLETIONS).start(body, call)
    return await respond(run, response, body.stream)
