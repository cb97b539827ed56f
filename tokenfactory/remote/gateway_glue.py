"""Remote models in the gateway: install onto a gateway, and run a request upstream with the
gateway's admission (rate limits, wallet) and usage metering around it."""

from __future__ import annotations

from typing import Any

from fastapi import Request, Response
from fastapi.responses import JSONResponse, StreamingResponse

from ..errors import InvalidRequestError, ServiceError
from ..gateway.metering import admit, gateway_of, metered_stream, record
from ..gateway.sse import sse_events
from ..store import Principal
from .config import UpstreamSpec
from .registry import RemoteModels
from .services import RemoteService

SERVICE_KEY = "remote"


def install(
    gateway: Any, specs: list[UpstreamSpec], health_interval_s: float = 2.0
) -> RemoteModels:
    remote = RemoteModels(specs, health_interval_s)
    gateway.services[SERVICE_KEY] = remote
    gateway.startup_hooks.insert(0, remote.start)
    gateway.shutdown_hooks.append(remote.shutdown)
    return remote


def remote_of(gateway: Any) -> RemoteModels | None:
    return gateway.services.get(SERVICE_KEY)


def remote_models(gateway: Any) -> list:
    remote = remote_of(gateway)
    return remote.models() if remote is not None else []


def serves(request: Request, model: str) -> bool:
    remote = remote_of(gateway_of(request))
    return remote is not None and remote.serves(model)


WIRE_MODELS = {
    "/v1/chat/completions": "ChatCompletionRequest",
    "/v1/completions": "CompletionRequest",
    "/v1/embeddings": "EmbeddingRequest",
}


async def run_remote_line(remote: RemoteModels, endpoint: str, body: dict) -> tuple[dict, list]:
    """One batch line upstream, validated like the HTTP route would: (answer, usage)."""
    from .. import wire

    if endpoint not in WIRE_MODELS:
        raise InvalidRequestError(f"Unknown batch endpoint '{endpoint}'")
    if endpoint != "/v1/embeddings":
        body = {**body, "stream": False}
    request = getattr(wire, WIRE_MODELS[endpoint]).model_validate(body)
    service = RemoteService(remote)
    call = service.prepare(endpoint, request)
    answer = await service.complete(call)
    return answer, call.results


async def run_remote(
    request: Request, response: Response, principal: Principal, endpoint: str, body: Any
) -> Response:
    remote = remote_of(gateway_of(request))
    assert remote is not None
    service = RemoteService(remote)
    call = service.prepare(endpoint, body)
    tier = "embeddings" if endpoint == "/v1/embeddings" else "realtime"
    headers = await admit(
        request, response, principal, endpoint, call.model, tier, call.estimated_tokens
    )
    try:
        if call.stream:
            chunks = await service.open_stream(call)
        else:
            answer = await service.complete(call)
    except ServiceError as exc:
        await record(request, principal, endpoint, call.model, tier, [], exc.status_code)
        raise
    if call.stream:
        metered = metered_stream(
            chunks, request, principal, endpoint, call.model, tier, call.results
        )
        return StreamingResponse(
            sse_events(metered), media_type="text/event-stream", headers=headers
        )
    await record(request, principal, endpoint, call.model, tier, call.results)
    return JSONResponse(answer, headers=headers)
