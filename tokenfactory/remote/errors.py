"""An upstream's refusal or failure, in our error shape.

    ServiceError
     ├── UpstreamRejected        the upstream's 4xx, with its message (client's fault)
     ├── UpstreamFailed          502: the upstream broke (5xx, bad reply, key refused)
     │    └── UpstreamStreamBroken  502: the stream ended mid-way (never restarted)
     └── NoUpstreamAvailable     503: no healthy replica took the request

Retryable (on another replica, before anything was streamed): a connection error or a 503.
"""

from __future__ import annotations

import json

from ..errors import ServiceError, ServiceUnavailableError

_TYPES = {
    400: ("invalid_request", "invalid_request"),
    404: ("not_found", "model_not_found"),
    413: ("invalid_request", "request_too_large"),
    422: ("invalid_request", "invalid_request"),
    429: ("rate_limit_exceeded", "upstream_rate_limited"),
}


class UpstreamRejected(ServiceError):
    """The upstream refused the request (4xx): its message, our shape and status."""

    def __init__(self, status: int, message: str, code: str | None = None) -> None:
        kind, default_code = _TYPES.get(status, ("invalid_request", "invalid_request"))
        super().__init__(message, code=code or default_code)
        self.status_code = status if status in (400, 404, 429) else 400  # the API's codes
        self.type = kind


class UpstreamFailed(ServiceError):
    status_code = 502
    type = "server_error"
    code = "upstream_error"


class UpstreamStreamBroken(UpstreamFailed):
    code = "upstream_stream_broken"


class NoUpstreamAvailable(ServiceUnavailableError):
    code = "no_upstream_available"


def upstream_message(body: bytes) -> tuple[str, str | None]:
    """The message (and code) in an upstream's error body, whatever its dialect."""
    try:
        data = json.loads(body)
    except ValueError:
        text = body.decode(errors="replace").strip()
        return (text[:500] or "no message"), None
    if isinstance(data, dict):
        err = data.get("error", data)
        if isinstance(err, dict):
            code = err.get("code")
            message = err.get("message") or err.get("detail") or json.dumps(err)[:500]
            return str(message), (str(code) if isinstance(code, str) else None)
        if isinstance(err, str):
            return err, None
        detail = data.get("detail")
        if detail is not None:
            return (detail if isinstance(detail, str) else json.dumps(detail)[:500]), None
    return json.dumps(data)[:500], None


def error_for_status(status: int, body: bytes, where: str) -> ServiceError:
    """Map a non-2xx upstream reply (not 503, which the pool retries) to our error."""
    message, code = upstream_message(body)
    if status in (401, 403):
        return UpstreamFailed(f"The upstream {where} refused the gateway's key: {message}")
    if 400 <= status < 500:
        return UpstreamRejected(status, message, code)
    if status == 503:
        return NoUpstreamAvailable(f"The upstream {where} is unavailable: {message}")
    return UpstreamFailed(f"The upstream {where} failed ({status}): {message}")
