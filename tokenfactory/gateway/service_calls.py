"""The HTTP side of a service call: the core of a request, its ``Call``, JSON or SSE out."""

from __future__ import annotations

from typing import Any, TypeVar

from fastapi import Request, Response
from fastapi.responses import JSONResponse, StreamingResponse

from ..core import Call
from ..core.endpoints import Endpoint
from ..core.run import Run
from ..store import Principal
from .sse import sse_events

__all__ = ["http_call", "respond"]

Out = TypeVar("Out")


def http_call(request: Request, principal: Principal, endpoint: Endpoint[Any, Any]) -> Call:
    """An interactive call of ``endpoint``, at its tier, under the request's id and end user."""
    request_id = getattr(request.state, "request_id", None)
    user = request.headers.get("x-tf-user") or None
    length = request.headers.get("content-length", "")
    size = int(length) if length.isdigit() else 0  # a large body is prepared off the loop
    return Call(
        principal,
        endpoint.path,
        endpoint.tier,
        request_id=request_id,
        input_bytes=size,
        user=user,
    )


async def respond(run: Run[Out, Any], response: Response, stream: bool = False) -> Out | Any:
    """A run's answer as JSON, or as server-sent events when the request asked to stream."""
    if stream:
        return StreamingResponse(
            sse_events(run.stream()), media_type="text/event-stream", headers=run.headers
        )
    answer = await run.complete()
    if isinstance(answer, dict):  # a remote model's answer, passed on as the upstream sent it
        return JSONResponse(answer, headers=run.headers)
    response.headers.update(run.headers)
    return answer
