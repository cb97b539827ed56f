"""GET /health: a readiness probe. 200 once the served models are loaded, 503 before.

It needs no key, and what it shows depends on who asks:
- no valid key: readiness only (``service``, ``status``, ``ready``, ``version``);
- a workspace's key: the engine, its load, the batch lines it runs at once, the shared models
  (public fields, no paths or error details, which can name paths) and that workspace's own
  adapters, by name;
- an admin key: everything, with the engine's adapter ids and paths.
Any valid key sees the upstreams (the operator's replicas, no workspace's data).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from ..._version import __version__
from ...batch.service import BatchService
from ...errors import UnavailableError
from ...store import Principal
from ...wire.health import Health
from ..auth import optional_principal
from ..deps import core_of, remote_of
from ..responses import errors

PUBLIC_MODEL_FIELDS = ("id", "modality", "status", "engine", "context_length", "size_bytes")

router = APIRouter()


@router.get("/health", response_model=Health, responses=errors(503))
async def health(request: Request) -> JSONResponse:
    gw = core_of(request)
    principal = optional_principal(request)
    body: dict[str, Any] = {
        "service": "tokenfactory",
        "status": "ok" if gw.ready else ("failed" if gw.engine_error else "loading"),
        "ready": gw.ready,
        "version": __version__,
    }
    if principal is not None:
        body.update(_details(request, principal))
    if gw.ready:
        return JSONResponse(body)
    if not gw.engine_error:
        message = "Models are still loading"
    elif principal is not None and principal.is_admin:
        message = f"The engine failed to start: {gw.engine_error}"
    else:
        message = "The engine failed to start (GET /health with an admin key says why)"
    err = UnavailableError(message, code="engine_failed" if gw.engine_error else "loading")
    return JSONResponse({**err.to_dict(), **body}, status_code=503)


def _details(request: Request, principal: Principal) -> dict[str, Any]:
    gw = core_of(request)
    h = gw.engine.health()
    remote = remote_of(request)
    served_elsewhere = [m for b in gw.backends for m in b.models()]
    models = [dataclasses.asdict(m) for m in h.models + served_elsewhere]
    if principal.is_admin:
        adapters = list(h.adapters)
    else:
        models = [{k: m[k] for k in PUBLIC_MODEL_FIELDS} for m in models]
        adapters = sorted(gw.visible_adapters(principal))
    return {
        "engine": h.engine,
        "device": h.device,
        "requests_running": h.requests_running,
        "requests_waiting": h.requests_waiting,
        "models": models,
        "adapters": adapters,
        "upstreams": remote.snapshot() if remote else [],
        "uptime_s": round(request.app.state.clock() - gw.started_at, 1),
        "batch_lines_in_flight": _batch_lines_in_flight(request),
    }


def _batch_lines_in_flight(request: Request) -> int | None:
    """How many batch-job lines run at once (what ``tf.estimate`` samples at)."""
    gw = core_of(request)
    batches = gw.installed.get(BatchService)
    if batches is None or not gw.ready:
        return None
    return int(batches.runner.max_in_flight)
