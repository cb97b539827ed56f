"""The FastAPI application: error mapping, request ids, and one router per endpoint family."""

from __future__ import annotations

import importlib
import time
import uuid

from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..core import Core
from ..services import install as install_services
from .cors import check_origins, install_cors
from .errors import install_error_handlers
from .inflight import Drain, InFlightMiddleware
from .json_body import install_json_limits
from .limits import BodyLimitMiddleware, RequestLimits
from .metering_middleware import MeteringMiddleware
from .openapi import install_openapi

# Routers included by every gateway. A feature adds its module here.
ROUTERS = [
    "tokenfactory.gateway.routes.health",
    "tokenfactory.gateway.routes.models",
    "tokenfactory.gateway.routes.chat",
    "tokenfactory.gateway.routes.responses_api",
    "tokenfactory.gateway.routes.completions",
    "tokenfactory.gateway.routes.requests",
    "tokenfactory.gateway.routes.embeddings",
    "tokenfactory.gateway.routes.batch",
    "tokenfactory.gateway.routes.openai_batches",
    "tokenfactory.gateway.routes.usage",
    "tokenfactory.gateway.routes.metrics",
    "tokenfactory.gateway.routes.admin",
    "tokenfactory.gateway.routes.aliases",
    "tokenfactory.gateway.routes.adapters",
    "tokenfactory.gateway.routes.checkpoints",
    "tokenfactory.gateway.routes.upstreams",
    "tokenfactory.gateway.routes.tokenize",
    "tokenfactory.gateway.routes.prices",
    "tokenfactory.gateway.routes.webhooks",
    "tokenfactory.gateway.routes.fine_tuning",
    "tokenfactory.gateway.routes.admin_billing",
]


class RequestIdMiddleware:
    """``request.state.request_id`` from ``X-Request-ID`` (or a new one), echoed on the response.

    Plain ASGI: ``@app.middleware("http")`` would relay every streamed chunk through an extra
    task and memory stream.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = next((v for k, v in scope["headers"] if k == b"x-request-id"), None)
        request_id = given.decode("latin-1") if given else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                if not any(k.lower() == b"x-request-id" for k, _ in headers):
                    headers.append((b"x-request-id", request_id.encode("latin-1")))
                    message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_id)


def create_app(
    core: Core, limits: RequestLimits | None = None, cors_origins: list[str] | None = None
) -> FastAPI:
    """The gateway's app. ``limits``: body caps and deadlines (default: from the environment,
    see ``gateway/limits.py``); ``cors_origins``: the web origins whose pages may call it
    (``gateway/cors.py``; default none)."""
    app = FastAPI(title="tokenfactory", docs_url="/docs", redoc_url=None)
    install_services(core)  # a bare core (no features) still serves inference
    app.state.core = core
    app.state.limits = limits or RequestLimits.from_env()
    app.state.drain = Drain()
    app.state.clock = time.time
    install_error_handlers(app)

    app.add_middleware(RequestIdMiddleware)
    for module in ROUTERS:
        app.include_router(importlib.import_module(module).router)
    install_json_limits(app)
    if core.meter is not None:  # rate-limit headers, failed requests metered, keys redacted
        app.add_middleware(MeteringMiddleware)
    # outermost: a body past its cap or too slow is refused before anything reads it; every
    # request runs as a task that a client leaving, or the end of a shutdown's drain, cancels
    app.add_middleware(BodyLimitMiddleware, limits=app.state.limits)
    app.add_middleware(InFlightMiddleware, drain=app.state.drain)
    install_openapi(app)
    install_cors(app, check_origins(cors_origins))
    return app
