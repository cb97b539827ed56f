"""The error responses routes declare, so ``/openapi.json`` documents them: every failure is
``{"error": {"message", "type", "code", "param"}}`` (``wire.errors.ErrorResponse``)."""

from __future__ import annotations

from typing import Any

from ..wire.errors import ErrorResponse

WHY = {
    400: "Invalid request: a missing or bad parameter (named in error.param)",
    401: "Missing, malformed or unknown API key",
    402: "The workspace's wallet cannot cover the request",
    403: "The endpoint needs an admin key",
    404: "Unknown model, batch, file, adapter or workspace (or another workspace's)",
    429: "Rate limit exceeded (X-RateLimit-* headers say when to retry)",
    500: "Internal server error",
    503: "The model is loading, or the feature is not enabled on this gateway",
}


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    return {code: {"model": ErrorResponse, "description": WHY[code]} for code in codes}


#: every authenticated route
AUTHENTICATED = errors(400, 401, 404, 500, 503)
#: routes that run a model or spend from the wallet
METERED = errors(400, 401, 402, 404, 429, 500, 503)
#: /v1/admin and model load/unload
ADMIN = errors(400, 401, 403, 404, 500, 503)


def multipart_upload(*fields: str) -> dict[str, Any]:
    """``openapi_extra`` for a route that reads a multipart form itself (a ``file`` field)."""
    properties: dict[str, Any] = {"file": {"type": "string", "format": "binary"}}
    properties.update({name: {"type": "string"} for name in fields})
    schema = {"type": "object", "required": ["file"], "properties": properties}
    return {
        "requestBody": {
            "required": True,
            "content": {"multipart/form-data": {"schema": schema}},
        }
    }


#: a streamed JSON Lines body
JSONL: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {"application/jsonl": {"schema": {"type": "string"}}},
        "description": "One JSON object a line",
    }
}
