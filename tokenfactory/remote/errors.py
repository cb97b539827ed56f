"""An upstream's refusal or failure, as the API's own errors (``tokenfactory.errors``).

    InvalidRequestError
     └── UpstreamRejected            400: the upstream's 4xx (the client's fault), its message
          ├── UpstreamNotFound        404 (also a ModelNotFoundError)
          └── UpstreamRateLimited     429 (also a RateLimitExceededError)
    InternalError
     └── UpstreamFailed              502: the upstream broke (5xx, bad reply, our key refused)
          └── UpstreamStreamBroken    502: the stream ended mid-way (never restarted)
    UnavailableError
     └── NoUpstreamAvailable         503: no healthy replica took the request

Retryable (on another replica, before anything was streamed): a connection error or a 503.
"""

from __future__ import annotations

import json

from ..errors import (
    InternalError,
    InvalidRequestError,
    ModelNotFoundError,
    RateLimitExceededError,
    ServiceError,
    UnavailableError,
)


class UpstreamRejected(InvalidRequestError):
    """The upstream refused the request: its message, in our shape (the API has no 422)."""


class UpstreamNotFound(ModelNotFoundError, UpstreamRejected):
    pass


class UpstreamRateLimited(RateLimitExceededError, UpstreamRejected):
    code = "upstream_rate_limited"


class UpstreamFailed(InternalError):
    status_code = 502
    code = "upstream_error"


class UpstreamStreamBroken(UpstreamFailed):
    code = "upstream_stream_broken"


class NoUpstreamAvailable(UnavailableError):
    code = "no_upstream_available"


_REJECTED: dict[int, type[UpstreamRejected]] = {404: UpstreamNotFound, 429: UpstreamRateLimited}
_CODES = {413: "request_too_large"}
#: FastAPI's answers for a route the server does not have (vLLM registers the embeddings and
#: runtime-LoRA routes only for models and settings that use them)
_NO_ROUTE = {"Not Found", "Method Not Allowed"}


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


def error_for_status(status: int, body: bytes, where: str, path: str = "") -> ServiceError:
    """Map a non-2xx upstream reply to our error (a 503 is retried by the pool first)."""
    message, code = upstream_message(body)
    if status in (401, 403):
        return UpstreamFailed(f"The upstream {where} refused the gateway's key: {message}")
    if status == 501 or (status in (404, 405) and message in _NO_ROUTE):
        return UpstreamRejected(
            f"The upstream {where} does not serve {path or 'this endpoint'} for this model"
            f" ({status} {message})",
            code="model_not_supported",
        )
    if 400 <= status < 500:
        rejected = _REJECTED.get(status, UpstreamRejected)
        return rejected(message, code=code or _CODES.get(status))
    if status == 503:
        return NoUpstreamAvailable(f"The upstream {where} is unavailable: {message}")
    return UpstreamFailed(f"The upstream {where} failed ({status}): {message}")
