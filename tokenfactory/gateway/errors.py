"""Every failure leaves the gateway as ``{"error": {...}}``; mapped here, once."""

from __future__ import annotations

import logging
import uuid

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect
from starlette.routing import BaseRoute, Match

from ..core.validation import invalid_request
from ..errors import (
    InternalError,
    InvalidRequestError,
    ResourceNotFoundError,
    ServiceError,
    UnauthenticatedError,
)

log = logging.getLogger("tokenfactory.gateway")


def error_response(exc: ServiceError, request: Request | None = None) -> JSONResponse:
    headers = dict(exc.headers)
    if request is not None and getattr(request.state, "request_id", None):
        headers.setdefault("x-request-id", request.state.request_id)
    return JSONResponse(exc.to_dict(), status_code=exc.status_code, headers=headers)


def allowed_methods(request: Request) -> str:
    """Every method some route serves at this path (FastAPI keeps one route per method, so
    the 405 Starlette raises names only the first route's)."""
    methods: set[str] = set()
    for route in request.app.router.routes:
        if isinstance(route, BaseRoute) and route.matches(request.scope)[0] is not Match.NONE:
            methods |= getattr(route, "methods", None) or set()
    return ", ".join(sorted(methods))


def validation_error(exc: RequestValidationError) -> InvalidRequestError:
    return invalid_request(exc.errors())


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ServiceError)
    async def _service_error(request: Request, exc: ServiceError) -> JSONResponse:
        return error_response(exc, request)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        return error_response(validation_error(exc), request)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 404:
            err: ServiceError = ResourceNotFoundError(
                f"Unknown route: {request.method} {request.url.path}", code="unknown_route"
            )
        elif exc.status_code == 405:
            allowed = allowed_methods(request)
            err = InvalidRequestError(
                f"Method {request.method} is not allowed on {request.url.path}"
                f" (allowed: {allowed})",
                code="method_not_allowed",
                headers={"Allow": allowed},
            )
            err.status_code = 405
        elif exc.status_code == 401:
            err = UnauthenticatedError(str(exc.detail))
        else:
            err = InvalidRequestError(str(exc.detail))
            err.status_code = exc.status_code
        return error_response(err, request)

    @app.exception_handler(ClientDisconnect)
    async def _client_left(request: Request, exc: ClientDisconnect) -> JSONResponse:
        # nobody reads this answer (or the body guard sends its 413/408 instead)
        err = InvalidRequestError("The client closed the connection", code="client_disconnected")
        err.status_code = 499
        return error_response(err, request)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        request_id = getattr(request.state, "request_id", None) or uuid.uuid4().hex
        log.exception("unhandled error in request %s", request_id, exc_info=exc)
        return error_response(
            InternalError(f"Internal server error (request id {request_id})"), request
        )
