"""The Python SDK: ``TokenFactory`` / ``AsyncTokenFactory`` clients for the /v1 gateway.

    import tokenfactory as tf
    tf.serve()                      # or point at a gateway: TOKENFACTORY_BASE_URL / _API_KEY
    client = tf.TokenFactory()
    client.chat.completions.create(model=..., messages=[{"role": "user", "content": "Hi"}])

Light to import: httpx and pydantic only (no torch).
"""

from ._client import AsyncTokenFactory, TokenFactory
from ._errors import (
    APIConnectionError,
    APIError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConfigurationError,
    ConflictError,
    InsufficientBalanceError,
    InternalServerError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ServiceUnavailableError,
    TokenFactoryError,
)
from ._retry import RetryPolicy
from ._streaming import AsyncStream, Stream
from .dataframe import map_prompts

__all__ = [
    "APIConnectionError",
    "APIError",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "AsyncStream",
    "AsyncTokenFactory",
    "AuthenticationError",
    "BadRequestError",
    "ConfigurationError",
    "ConflictError",
    "InsufficientBalanceError",
    "InternalServerError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "RetryPolicy",
    "ServiceUnavailableError",
    "Stream",
    "TokenFactory",
    "TokenFactoryError",
    "map_prompts",
]
