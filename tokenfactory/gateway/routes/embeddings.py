"""POST /v1/embeddings"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response

from ...core.endpoints import EMBEDDINGS
from ...store import Principal
from ...wire.embeddings import EmbeddingRequest, EmbeddingResponse
from ..auth import authenticate
from ..deps import core_of
from ..responses import METERED
from ..service_calls import http_call, respond

router = APIRouter(responses=METERED)


@router.post(EMBEDDINGS.path, response_model=EMBEDDINGS.response)
async def create_embeddings(
    body: EmbeddingRequest,
    request: Request,
    response: Response,
    principal: Principal = Depends(authenticate),
) -> EmbeddingResponse:
    call = http_call(request, principal, EMBEDDINGS)
    run = await core_of(request).service(EMBEDDINGS).start(body, call)
    return await respond(run, response)
