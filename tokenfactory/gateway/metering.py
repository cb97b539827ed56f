"""Admission before a request runs and a usage record after it ends, for every endpoint."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any, TypeVar

from fastapi import Request, Response

from ..errors import ServiceError
from ..services.generation import GenerationResult
from ..store import Principal
from .state import Admission, Gateway, UsageRecord

T = TypeVar("T")


def gateway_of(request: Request) -> Gateway:
    return request.app.state.gateway


async def admit(
    request: Request,
    response: Response | None,
    principal: Principal,
    endpoint: str,
    model: str,
    tier: str,
    estimated_tokens: int,
) -> dict[str, str]:
    headers = await gateway_of(request).admit(
        Admission(principal, endpoint, model, tier, estimated_tokens)
    )
    if response is not None:
        response.headers.update(headers)
    return headers


async def record(
    request: Request,
    principal: Principal,
    endpoint: str,
    model: str,
    tier: str,
    results: list[GenerationResult],
    status: int = 200,
) -> None:
    await gateway_of(request).record_usage(
        UsageRecord(
            principal=principal,
            endpoint=endpoint,
            model=model,
            tier=tier,
            prompt_tokens=sum(r.prompt_tokens for r in results),
            completion_tokens=sum(r.completion_tokens for r in results),
            latency_s=max((r.latency_s or 0.0) for r in results) if results else None,
            ttft_s=min((r.ttft_s for r in results if r.ttft_s is not None), default=None),
            status=status,
            request_id=getattr(request.state, "request_id", None),
        )
    )


async def metered_stream(
    chunks: AsyncIterator[T],
    request: Request,
    principal: Principal,
    endpoint: str,
    model: str,
    tier: str,
    results: list[GenerationResult],
) -> AsyncIterator[T]:
    """Pass chunks through; record usage once when the stream ends, even if the client left."""
    status = 200
    try:
        async for chunk in chunks:
            yield chunk
    except (asyncio.CancelledError, GeneratorExit):
        status = 499  # the client went away
        raise
    except ServiceError as exc:
        status = exc.status_code
        raise
    except Exception:
        status = 500
        raise
    finally:
        await record(request, principal, endpoint, model, tier, results, status)


async def run_generation(
    request: Request,
    response: Response,
    principal: Principal,
    endpoint: str,
    body: Any,
    service: Any,
    prepared: Any,
    results: list[GenerationResult],
) -> Any:
    """Admit a prepared chat/completion request, run it (JSON or SSE) and record its usage."""
    from fastapi.responses import StreamingResponse

    from .sse import sse_events

    headers = await admit(
        request, response, principal, endpoint, body.model, "realtime", prepared.estimated_tokens
    )
    if body.stream:
        chunks = metered_stream(
            service.events(prepared), request, principal, endpoint, body.model, "realtime", results
        )
        return StreamingResponse(
            sse_events(chunks), media_type="text/event-stream", headers=headers
        )
    answer = await service.complete(prepared)
    await record(request, principal, endpoint, body.model, "realtime", results)
    return answer
