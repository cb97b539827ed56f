"""Every JSON request body is parsed once, here, under ``wire.json_limits``' rules (nesting
depth, Unicode text, finite numbers), before FastAPI validates it against the route's model.

A body that breaks a rule is a 400 naming the field; one that is not JSON at all is left to
FastAPI (a 400 ``invalid_json`` through ``gateway.errors``). The parsed value is what FastAPI
then reads (Starlette caches ``Request.json()``), so a body is decoded once.

A large body (from :data:`OFF_LOOP_BYTES` on) is decoded *and validated against the route's
body model* on a worker thread, so the event loop keeps serving the other requests meanwhile.
FastAPI still answers the outcome at its usual point (after the route's dependencies, so a
caller without a key still gets its 401 first): the route's body field is taught to hand back
a result computed off the loop (:class:`OffLoopResult`) instead of validating again, so the
errors are the very ones FastAPI would have made (a 400 naming the field).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any, ParamSpec, TypeVar

from fastapi import FastAPI, Request, Response
from fastapi.routing import APIRoute, request_response

from ..wire.json_limits import loads

Handler = Callable[[Request], Coroutine[Any, Any, Response]]
P = ParamSpec("P")
T = TypeVar("T")
#: FastAPI's body-field check: ``validate(value, values, *, loc) -> (value, errors)``
Validate = Callable[..., tuple[Any, list[Any]]]

#: bodies from this size on are decoded and validated off the event loop (a thread hop costs
#: ~50 us)
OFF_LOOP_BYTES = 256 * 1024
BODY_LOC = ("body",)


@dataclass(frozen=True)
class OffLoopResult:
    """A body validated on a worker thread: what the route's body field answers for it."""

    value: Any
    errors: list[Any]


async def off_loop_if_large(
    size: int, work: Callable[P, T], *args: P.args, **kwargs: P.kwargs
) -> T:
    """``work(*args, **kwargs)`` (parsing and validating an upload of ``size`` bytes), on a
    worker thread from :data:`OFF_LOOP_BYTES` on."""
    if size < OFF_LOOP_BYTES:
        return work(*args, **kwargs)
    return await asyncio.to_thread(work, *args, **kwargs)


def _is_json(content_type: str | None) -> bool:
    if not content_type:
        return True  # FastAPI reads a body without a content type as JSON
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    )


def _decode_and_validate(body: bytes, validate: Validate | None) -> Any:
    parsed = loads(body)
    if validate is None or parsed is None:  # None: FastAPI's "missing" or default, as before
        return parsed
    value, errors = validate(parsed, {}, loc=BODY_LOC)
    return OffLoopResult(value, errors)


def checked_json(handler: Handler, validate: Validate | None = None) -> Handler:
    """``handler`` with its JSON body decoded once under the limits; ``validate`` (the route's
    original body check) runs with the decoding on a worker thread for a large body."""

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
                        request._json = await asyncio.to_thread(
                            _decode_and_validate, body, validate
                        )
        return await handler(request)

    return handle


def answer_off_loop_results(route: APIRoute) -> Validate | None:
    """Teach the route's body field to answer an :class:`OffLoopResult` as it is; return the
    field's own check (to run off the loop). None where the body is not one field taken whole
    (several body parameters, or a FastAPI whose internals differ): such a route's large body is
    still decoded off the loop, and validated on it as before."""
    params = getattr(getattr(route, "dependant", None), "body_params", None)
    if not params or len(params) != 1 or getattr(route, "_embed_body_fields", True):
        return None
    field = params[0]
    validate = getattr(field, "validate", None)
    if validate is None:
        return None

    def validate_or_answer(
        value: Any, values: dict[str, Any] | None = None, *, loc: tuple[Any, ...] = ()
    ) -> tuple[Any, list[Any]]:
        if isinstance(value, OffLoopResult):
            return value.value, value.errors
        return validate(value, {} if values is None else values, loc=loc)

    field.validate = validate_or_answer
    return validate


def install_json_limits(app: FastAPI) -> None:
    """Wrap the handler of every route that takes a JSON body (call after including routers)."""
    for route in app.router.routes:
        if isinstance(route, APIRoute) and route.body_field is not None:
            validate = answer_off_loop_results(route)
            route.app = request_response(checked_json(route.get_route_handler(), validate))
