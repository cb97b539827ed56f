"""GET /health: a readiness probe. 200 once the served models are loaded, 503 before.

It needs no key, so without a valid key it shows no filesystem paths and no error details (they
can name paths): model ids, states and sizes only. With a key it shows everything.
"""

from __future__ import annotations

import dataclasses

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from ..._version import __version__
from ...errors import UnauthenticatedError, UnavailableError
from ...wire.health import Health
from ..auth import api_key_from
from ..deps import core_of, remote_of
from ..responses import errors

PUBLIC_MODEL_FIELDS = ("id", "modality", "status", "engine", "context_length", "size_bytes")

router = APIRouter()


@router.get("/health", response_model=Health, responses=errors(503))
async def health(request: Request) -> JSONResponse:
    gw = core_of(request)
    h = gw.engine.health()
    trusted = _has_valid_key(request)
    remote = remote_of(request)
    served_elsewhere = [m for b in gw.backends for m in b.models()]
    models = [dataclasses.asdict(m) for m in h.models + served_elsewhere]
    if not trusted:
        models = [{k: m[k] for k in PUBLIC_MODEL_FIELDS} for m in models]
    body = {
        "service": "tokenfactory",
        "status": "ok" if gw.ready else ("failed" if gw.engine_error else "loading"),
        "ready": gw.ready,
        "version": __version__,
        "engine": h.engine,
        "device": h.device,
        "requests_running": h.requests_running,
        "requests_waiting": h.requests_waiting,
        "models": models,
        "adapters": h.adapters,
        "upstreams": remote.snapshot() if remote else [],
        "uptime_s": round(request.app.state.clock() - gw.started_at, 1),
    }
    if gw.ready:
        return JSONResponse(body)
    if not gw.engine_error:
        message = "Models are still loading"
    elif trusted:
        message = f"The engine failed to start: {gw.engine_error}"
    else:
        message = "The engine failed to start (GET /health with an API key says why)"
    err = UnavailableError(message, code="engine_failed" if gw.engine_error else "loading")
    return JSONResponse({**err.to_dict(), **body}, status_code=503)


def _has_valid_key(request: Request) -> bool:
    try:
        key = api_key_from(request)
        return key is not None and core_of(request).keys.authenticate(key) is not None
    except UnauthenticatedError:
        return False
