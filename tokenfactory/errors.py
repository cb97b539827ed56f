"""Errors raised inside the gateway, services and engines.

Each carries the HTTP status, ``type`` and ``code`` of the API's error shape; the gateway maps
them to ``{"error": {"message", "type", "code"}}`` in one place (``gateway/errors.py``).

    ServiceError
     ├── InvalidRequestError        400 invalid_request
     │    ├── UnsupportedSchemaError  400 (a structured-output keyword the backend cannot enforce)
     │    ├── RequestTimeoutError     408 (the body did not arrive in time)
     │    └── PayloadTooLargeError    413 (the body is past the endpoint's cap)
     ├── AuthenticationError        401 authentication_error
     ├── InsufficientBalanceError   402 insufficient_balance
     ├── NotFoundError              404 not_found
     │    └── ModelNotFoundError
     ├── RateLimitError             429 rate_limit_exceeded
     ├── ServiceUnavailableError    503 service_unavailable
     │    └── ModelLoadingError
     └── InternalError              500 server_error
"""

from __future__ import annotations


class ServiceError(Exception):
    status_code = 500
    type = "server_error"
    code = "server_error"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        param: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.param = param
        self.headers = headers or {}

    def to_dict(self) -> dict:
        body = {"message": self.message, "type": self.type, "code": self.code}
        if self.param is not None:
            body["param"] = self.param
        return {"error": body}


class InvalidRequestError(ServiceError):
    status_code = 400
    type = "invalid_request"
    code = "invalid_request"


class UnsupportedSchemaError(InvalidRequestError):
    code = "unsupported_schema"


class RequestTimeoutError(InvalidRequestError):
    status_code = 408
    code = "request_timeout"


class PayloadTooLargeError(InvalidRequestError):
    status_code = 413
    code = "request_too_large"


class AuthenticationError(ServiceError):
    status_code = 401
    type = "authentication_error"
    code = "invalid_api_key"


class PermissionDeniedError(ServiceError):
    status_code = 403
    type = "permission_denied"
    code = "admin_key_required"


class InsufficientBalanceError(ServiceError):
    status_code = 402
    type = "insufficient_balance"
    code = "insufficient_balance"


class NotFoundError(ServiceError):
    status_code = 404
    type = "not_found"
    code = "not_found"


class ModelNotFoundError(NotFoundError):
    code = "model_not_found"


class RateLimitError(ServiceError):
    status_code = 429
    type = "rate_limit_exceeded"
    code = "rate_limit_exceeded"


class ServiceUnavailableError(ServiceError):
    status_code = 503
    type = "service_unavailable"
    code = "service_unavailable"


class ModelLoadingError(ServiceUnavailableError):
    code = "model_loading"


class InternalError(ServiceError):
    status_code = 500
    type = "server_error"
    code = "server_error"
