"""Every JSON request body is parsed once, here, under ``wire.json_limits``' rules (nesting
depth, Unicode text, finite numbers), before FastAPI validates it against the route's model.

A body that breaks a rule is a 400 naming the field; one that is not JSON at all is left to
FastAPI (a 400 ``invalid_json`` through ``gateway.errors``). The parsed value is what FastAPI
then reads (Starlette caches ``Request.json()``), so a body is decoded once. A large body is
decoded on a worker thread, so the event loop keeps serving the other requests meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.routing import APIRoute, request_response

from ..wire.json_limits import loads

Handler = Callable[[Request], Coroutine[Any, Any, Response]]

#: bodies from this size on are decoded off the event loop (a thread hop costs ~50 us)
OFF_LOOP_BYTES = 256 * 1024


def _is_json(content_type: str | None) -> bool:
    if not content_type:
        return True  # FastAPI reads a body without a content type as JSON
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    )


def checked_json(handler: Handler) -> Handler:
    async def handle(request: Request) -> Response:
        if _is_json(request.headers.get("content-type")):
            body = await request.body()
            if body:
                # not JSON at all: FastAPI says so in its own words
                with contextlib.suppress(json.JSONDecodeError, UnicodeDecodeError):
                    # Request.json() returns this from now on
                    if len(body) < OFF_LOOP_BYTES:
                        request._json = loads(body)
                    else:
                        request._json = await asyncio.to_thread(loads, body)
        return await handler(request)

    return handle


def install_json_limits(app: FastAPI) -> None:
    """Wrap the handler of every route that takes a JSON body (call after including routers)."""
    for route in app.router.routes:
        if isinstance(route, APIRoute) and route.body_field is not None:
            route.app = request_response(checked_json(route.get_route_handler()))
