"""GET /metrics: Prometheus text exposition (server-wide, no per-workspace labels).

With a key (``Authorization: Bearer`` or ``?api_key=``) every series; model labels name only
the served base models (a workspace's adapter is ``adapter``, anything else ``other``).
Without one, readiness only (``tokenfactory_engine_ready``).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import PlainTextResponse

from ...remote.metrics import render as render_upstreams
from ...usage.metrics import Metrics
from ..auth import optional_principal
from ..deps import core_of, metrics_of, remote_of
from ..responses import errors

router = APIRouter(responses=errors(500, 503))

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
TEXT: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "Prometheus text",
        "content": {"text/plain": {"schema": {"type": "string"}}},
    }
}


# response_class=Response (no media type of its own): the errors are documented as JSON
@router.get("/metrics", response_class=Response, responses=TEXT)
async def metrics(request: Request) -> PlainTextResponse:
    gw = core_of(request)
    ready = ("1 once the served models are loaded.", int(gw.ready))
    if optional_principal(request) is None:
        text = Metrics().render({"tokenfactory_engine_ready": ready}, only_gauges=True)
        return PlainTextResponse(text, media_type=CONTENT_TYPE)
    health = gw.engine.health()
    metrics = metrics_of(request)
    gauges = {
        "tokenfactory_queue_depth": ("Requests waiting for the engine.", health.requests_waiting),
        "tokenfactory_requests_running": (
            "Requests the engine is running.",
            health.requests_running,
        ),
        "tokenfactory_engine_utilization": (
            "Share of the last minute the engine had at least one request running (0-1).",
            metrics.utilisation(),
        ),
        "tokenfactory_engine_ready": ready,
        "tokenfactory_models_loaded": (
            "Models currently loaded.",
            sum(1 for m in health.models if m.status == "loaded"),
        ),
    }
    text = metrics.render(gauges)
    remote = remote_of(request)
    if remote is not None:
        text += render_upstreams(remote.snapshot())
    return PlainTextResponse(text, media_type=CONTENT_TYPE)
