"""The FastAPI application: error mapping, request ids, and one router per endpoint family."""

from __future__ import annotations

import importlib
import time
import uuid

from fastapi import FastAPI, Request

from ..core import Core
from .errors import install_error_handlers
from .metering_middleware import MeteringMiddleware

# Routers included by every gateway. A feature adds its module here.
ROUTERS = [
    "tokenfactory.gateway.routes.health",
    "tokenfactory.gateway.routes.models",
    "tokenfactory.gateway.routes.chat",
    "tokenfactory.gateway.routes.completions",
    "tokenfactory.gateway.routes.embeddings",
    "tokenfactory.gateway.routes.batch",
    "tokenfactory.gateway.routes.openai_batches",
    "tokenfactory.gateway.routes.usage",
    "tokenfactory.gateway.routes.metrics",
    "tokenfactory.gateway.routes.admin",
    "tokenfactory.gateway.routes.adapters",
]


def create_app(gateway: Core) -> FastAPI:
    app = FastAPI(title="tokenfactory", docs_url="/docs", redoc_url=None)
    app.state.gateway = gateway
    app.state.clock = time.time
    install_error_handlers(app)

    @app.middleware("http")
    async def request_id(request: Request, call_next):  # type: ignore[no-untyped-def]
        request.state.request_id = request.headers.get("x-request-id") or uuid.uuid4().hex
        response = await call_next(request)
        response.headers.setdefault("x-request-id", request.state.request_id)
        return response

    for module in ROUTERS:
        app.include_router(importlib.import_module(module).router)
    if gateway.meter is not None:  # rate-limit headers, failed requests metered, keys redacted
        app.add_middleware(MeteringMiddleware)
    return app
