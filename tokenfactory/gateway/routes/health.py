"""GET /health: a readiness probe. 200 once the served models are loaded, 503 before."""

from __future__ import annotations

import dataclasses

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from ..._version import __version__
from ...errors import ServiceUnavailableError
from ...remote.gateway_glue import remote_models, remote_of
from ..metering import gateway_of

router = APIRouter()


@router.get("/health")
async def health(request: Request) -> JSONResponse:
    gw = gateway_of(request)
    h = gw.engine.health()
    body = {
        "status": "ok" if gw.ready else ("failed" if gw.engine_error else "loading"),
        "ready": gw.ready,
        "version": __version__,
        "engine": h.engine,
        "device": h.device,
        "requests_running": h.requests_running,
        "requests_waiting": h.requests_waiting,
        "models": [dataclasses.asdict(m) for m in h.models + remote_models(gw)],
        "adapters": h.adapters,
        "upstreams": remote.snapshot() if (remote := remote_of(gw)) else [],
        "uptime_s": round(request.app.state.clock() - gw.started_at, 1),
    }
    if gw.ready:
        return JSONResponse(body)
    message = (
        f"The engine failed to start: {gw.engine_error}"
        if gw.engine_error
        else "Models are still loading"
    )
    err = ServiceUnavailableError(message, code="engine_failed" if gw.engine_error else "loading")
    return JSONResponse({**err.to_dict(), **body}, status_code=503)
