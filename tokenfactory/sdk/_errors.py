"""Errors the SDK raises.

    TokenFactoryError                 anything raised by the SDK
     ├── APIError                     something went wrong talking to the API
     │    ├── APIStatusError          the API answered with an error status (or a mid-stream error)
     │    │    ├── BadRequestError            400 invalid_request
     │    │    ├── AuthenticationError        401 authentication_error
     │    │    ├── InsufficientBalanceError   402 insufficient_balance
     │    │    ├── PermissionDeniedError      403 permission_denied
     │    │    ├── NotFoundError              404 not_found
     │    │    ├── ConflictError              409 conflict
     │    │    ├── RateLimitError             429 rate_limit_exceeded
     │    │    ├── InternalServerError        500 server_error (and any other 5xx)
     │    │    └── ServiceUnavailableError    503 service_unavailable
     │    ├── APIConnectionError      no answer: the connection failed
     │    │    └── APITimeoutError    no answer in time
     │    └── APIResponseValidationError  an answer that does not fit the wire format
     └── ConfigurationError           no gateway could be found (see _config.py for where it looks)

``status_error()`` is the one place that maps a status code to a class. The names follow
openai-python's; the server raises its own, differently named tree (``tokenfactory/errors.py``),
and ``tf.MissingExtraError`` (a missing pip extra) lives in ``tokenfactory/extras.py``, which
both sides may use.
"""

from __future__ import annotations

import json
from typing import Any

import httpx


class TokenFactoryError(Exception):
    pass


class ConfigurationError(TokenFactoryError):
    pass


class APIError(TokenFactoryError):
    message: str
    request: httpx.Request | None

    def __init__(self, message: str, *, request: httpx.Request | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.request = request


class APIStatusError(APIError):
    status_code: int = 0

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        type: str | None = None,
        code: str | None = None,
        request_id: str | None = None,
        response: httpx.Response | None = None,
        body: Any = None,
    ) -> None:
        request = response.request if response is not None and _has_request(response) else None
        super().__init__(message, request=request)
        self.status_code = status_code
        self.type = type
        self.code = code
        self.request_id = request_id
        self.response = response
        self.body = body

    def __str__(self) -> str:
        label = f"Error code: {self.status_code}"
        if self.code:
            label += f" ({self.code})"
        suffix = f" [request {self.request_id}]" if self.request_id else ""
        return f"{label} - {self.message}{suffix}"


class BadRequestError(APIStatusError):
    status_code = 400


class AuthenticationError(APIStatusError):
    status_code = 401


class InsufficientBalanceError(APIStatusError):
    status_code = 402


class PermissionDeniedError(APIStatusError):
    status_code = 403


class NotFoundError(APIStatusError):
    status_code = 404


class ConflictError(APIStatusError):
    status_code = 409


class RateLimitError(APIStatusError):
    status_code = 429


class InternalServerError(APIStatusError):
    status_code = 500


class ServiceUnavailableError(APIStatusError):
    status_code = 503


class APIConnectionError(APIError):
    def __init__(
        self, message: str = "Connection error.", *, request: httpx.Request | None = None
    ) -> None:
        super().__init__(message, request=request)


class APITimeoutError(APIConnectionError):
    def __init__(self, *, request: httpx.Request | None = None) -> None:
        super().__init__("Request timed out.", request=request)


class APIResponseValidationError(APIError):
    def __init__(self, message: str, *, response: httpx.Response) -> None:
        super().__init__(message, request=response.request if _has_request(response) else None)
        self.response = response
        self.status_code = response.status_code


_BY_STATUS: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    402: InsufficientBalanceError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    429: RateLimitError,
    500: InternalServerError,
    503: ServiceUnavailableError,
}

# error ``type`` -> status, for errors that arrive inside a 200 stream
_STATUS_BY_TYPE: dict[str, int] = {
    "invalid_request": 400,
    "invalid_request_error": 400,
    "authentication_error": 401,
    "insufficient_balance": 402,
    "permission_denied": 403,
    "not_found": 404,
    "conflict": 409,
    "rate_limit_exceeded": 429,
    "server_error": 500,
    "service_unavailable": 503,
}


def status_error(
    status_code: int,
    error: Any,
    *,
    response: httpx.Response | None = None,
    request_id: str | None = None,
) -> APIStatusError:
    """Build the typed error for ``status_code`` from an ``{"error": {...}}`` body (or anything)."""
    detail = error.get("error") if isinstance(error, dict) else None
    if isinstance(detail, dict):
        message = str(detail.get("message") or f"HTTP {status_code}")
        type_, code = detail.get("type"), detail.get("code")
    else:
        message = str(detail or error or f"HTTP {status_code}")
        type_ = code = None
    if status_code in _BY_STATUS:
        cls = _BY_STATUS[status_code]
    elif status_code >= 500:
        cls = InternalServerError
    else:
        cls = APIStatusError
    return cls(
        message,
        status_code=status_code,
        type=type_,
        code=code,
        request_id=request_id,
        response=response,
        body=error,
    )


def error_from_response(response: httpx.Response) -> APIStatusError:
    """The typed error for a failed response (its body must already be read)."""
    try:
        body: Any = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        body = response.text or response.reason_phrase
    return status_error(
        response.status_code,
        body,
        response=response,
        request_id=response.headers.get("x-request-id"),
    )


def error_from_event(payload: dict[str, Any], response: httpx.Response) -> APIStatusError:
    """The typed error for an ``{"error": {...}}`` event inside a stream."""
    detail = payload.get("error")
    type_ = detail.get("type") if isinstance(detail, dict) else None
    status = _STATUS_BY_TYPE.get(str(type_), 500)
    return status_error(
        status, payload, response=response, request_id=response.headers.get("x-request-id")
    )


def _has_request(response: httpx.Response) -> bool:
    try:
        response.request  # noqa: B018 - raises RuntimeError when unset
    except RuntimeError:
        return False
    return True
