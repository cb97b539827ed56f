"""Every failure leaves the gateway as ``{"error": {...}}``; mapped here, once."""

from __future__ import annotations

import logging
import uuid

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..errors import (
    AuthenticationError,
    InternalError,
    InvalidRequestError,
    NotFoundError,
    ServiceError,
)

log = logging.getLogger("tokenfactory.gateway")


def error_response(exc: ServiceError, request: Request | None = None) -> JSONResponse:
    headers = dict(exc.headers)
    if request is not None and getattr(request.state, "request_id", None):
        headers.setdefault("x-request-id", request.state.request_id)
    return JSONResponse(exc.to_dict(), status_code=exc.status_code, headers=headers)


def _field_path(loc: tuple) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path")]
    out = ""
    for p in parts:
        out += f"[{p}]" if p.isdigit() else (f".{p}" if out else p)
    return out


def validation_error(exc: RequestValidationError) -> InvalidRequestError:
    errors = exc.errors()
    first = errors[0] if errors else {"loc": (), "msg": "invalid request"}
    if first.get("type") == "json_invalid":
        return InvalidRequestError(
            "The request body is not valid JSON: " + str(first.get("ctx", {}).get("error", "")),
            code="invalid_json",
        )
    loc = tuple(first.get("loc", ()))
    # a union's member name ("str", "list[str]", "function-after[...]") is not part of the field
    loc = tuple(p for p in loc if not (isinstance(p, str) and ("[" in p or p in {"str", "int"})))
    field = _field_path(loc) or "body"
    msg = first.get("msg", "invalid value")
    if first.get("type") == "missing" and field == "body":
        return InvalidRequestError(
            "The request has no body: send a JSON object (Content-Type: application/json)",
            code="missing_body",
        )
    if first.get("type") == "missing":
        message = f"Missing required parameter: '{field}'"
    else:
        message = f"Invalid value for '{field}': {msg}"
    if len(errors) > 1:
        message += f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})"
    return InvalidRequestError(message, param=field, code="invalid_parameter")


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
            err: ServiceError = NotFoundError(
                f"Unknown route: {request.method} {request.url.path}", code="unknown_route"
            )
        elif exc.status_code == 405:
            err = InvalidRequestError(
                f"Method {request.method} is not allowed on {request.url.path}",
                code="method_not_allowed",
            )
            err.status_code = 405
        elif exc.status_code == 401:
            err = AuthenticationError(str(exc.detail))
        else:
            err = InvalidRequestError(str(exc.detail))
            err.status_code = exc.status_code
        return error_response(err, request)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        request_id = getattr(request.state, "request_id", None) or uuid.uuid4().hex
        log.exception("unhandled error in request %s", request_id, exc_info=exc)
        return error_response(
            InternalError(f"Internal server error (request id {request_id})"), request
        )
