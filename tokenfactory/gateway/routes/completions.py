"""POST /v1/completions"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import StreamingResponse

from ...remote.gateway_glue import run_remote, serves
from ...services.completions import CompletionService
from ...store import Principal
from ...wire.completions import Completion, CompletionRequest
from ..auth import authenticate
from ..metering import gateway_of, run_generation

router = APIRouter()


@router.post("/v1/completions", response_model=None)
async def create_completion(
    body: CompletionRequest,
    request: Request,
    response: Response,
    principal: Principal = Depends(authenticate),
) -> Completion | StreamingResponse:
    if serves(request, body.model):
        return await run_remote(request, response, principal, "/v1/completions", body)
    gw = gateway_of(request)
    service = CompletionService(gw.engine, lambda m, k: gw.resolve_model(m, k, principal))
    prepared = service.prepare(body)
    return await run_generation(
        request, response, principal, "/v1/completions", body, service, prepared, prepared.results
    )
