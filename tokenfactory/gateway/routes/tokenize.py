"""POST /tokenize and /detokenize (also under /v1): vLLM's tokenizer endpoints.

Counting is free: each call is metered as a usage row with zero tokens (it shows in usage and
metrics, and costs nothing).
"""

from __future__ import annotations

import time

from fastapi import APIRouter, Depends, Request

from ...core import UsageRecord
from ...services.tokenize import TokenizeService
from ...store import Principal
from ...wire.tokenize import (
    DetokenizeRequest,
    DetokenizeResponse,
    TokenizeRequest,
    TokenizeResponse,
)
from ..auth import authenticate
from ..deps import core_of
from ..responses import AUTHENTICATED

router = APIRouter(responses=AUTHENTICATED)


def _meter(
    request: Request, principal: Principal, endpoint: str, model: str, started: float
) -> None:
    core = core_of(request)
    record = UsageRecord(
        principal=principal,
        endpoint=endpoint,
        model=core.real_model(model),
        tier="realtime",
        prompt_tokens=0,
        completion_tokens=0,
        latency_s=time.perf_counter() - started,
        ttft_s=None,
        status=200,
        request_id=getattr(request.state, "request_id", None),
    )
    core.commit_usage([record])


@router.post("/tokenize", response_model=TokenizeResponse)
@router.post("/v1/tokenize", response_model=TokenizeResponse)
async def tokenize(
    body: TokenizeRequest, request: Request, principal: Principal = Depends(authenticate)
) -> TokenizeResponse:
    started = time.perf_counter()
    answer = TokenizeService(core_of(request)).tokenize(body, principal)
    _meter(request, principal, "/v1/tokenize", body.model, started)
    return answer


@router.post("/detokenize", response_model=DetokenizeResponse)
@router.post("/v1/detokenize", response_model=DetokenizeResponse)
async def detokenize(
    body: DetokenizeRequest, request: Request, principal: Principal = Depends(authenticate)
) -> DetokenizeResponse:
    started = time.perf_counter()
    answer = TokenizeService(core_of(request)).detokenize(body, principal)
    _meter(request, principal, "/v1/detokenize", body.model, started)
    return answer
