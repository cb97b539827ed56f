"""vLLM's exceptions mapped once onto the API's typed errors, with the request id logged.

vLLM rejects a request with a ``ValueError`` (older versions) or a ``VLLMClientError`` such as
``VLLMValidationError`` (0.32: a structured-output constraint its backends cannot compile, a
prompt its input processor refuses), wraps whatever goes wrong while a request runs in
``EngineGenerateError`` (the cause chained), and raises ``EngineDeadError`` once its
engine-core process is gone. The exception classes are matched by name so this module imports
nothing from vLLM and covers every version.
"""

from __future__ import annotations

import logging

from ...errors import (
    InternalError,
    InvalidRequestError,
    ModelNotFoundError,
    ServiceError,
    UnavailableError,
    UnsupportedSchemaError,
)

log = logging.getLogger("tokenfactory.engine.vllm")

#: Words in vLLM's ValueError messages that mean "this structured-output constraint cannot be
#: enforced" rather than "this request is malformed".
SCHEMA_ERROR_WORDS = ("schema", "grammar", "regex", "structured", "xgrammar", "guidance")


def _named(exc: BaseException | None, name: str) -> bool:
    return exc is not None and any(cls.__name__ == name for cls in type(exc).__mro__)


def engine_died(exc: BaseException) -> bool:
    """vLLM's engine-core process is gone: the instance will never serve again."""
    return _named(exc, "EngineDeadError") or _named(exc.__cause__, "EngineDeadError")


def _client_error(exc: BaseException | None) -> bool:
    """vLLM refused the request itself (a 4xx), as opposed to failing while running it."""
    return isinstance(exc, ValueError) or _named(exc, "VLLMClientError")


def rejected(exc: BaseException, structured: bool) -> ServiceError:
    """A 400 (404 for vLLM's not-found) for a request vLLM refused; its message says why."""
    message = str(exc) or type(exc).__name__
    if _named(exc, "VLLMNotFoundError"):
        return ModelNotFoundError(message)
    if structured and any(word in message.lower() for word in SCHEMA_ERROR_WORDS):
        return UnsupportedSchemaError(message, param="response_format")
    return InvalidRequestError(message)


def translate(exc: BaseException, request_id: str, structured: bool = False) -> ServiceError:
    """The API error for an exception vLLM raised while serving ``request_id``."""
    if isinstance(exc, ServiceError):
        return exc
    cause = exc.__cause__ or exc.__context__
    if _client_error(exc):
        log.info("vLLM rejected request %s: %s", request_id, exc)
        return rejected(exc, structured)
    if _named(exc, "EngineGenerateError") and _client_error(cause):
        log.info("vLLM rejected request %s: %s", request_id, cause)
        return rejected(cause, structured)
    if engine_died(exc):
        log.error("vLLM's engine core died serving request %s: %s", request_id, exc)
        return UnavailableError(
            f"The vLLM engine stopped while serving request {request_id}; it is being started"
            " again, retry shortly"
        )
    inner = cause if _named(exc, "EngineGenerateError") and cause is not None else exc
    log.error(
        "vLLM failed request %s: %s: %s", request_id, type(inner).__name__, inner, exc_info=exc
    )
    return InternalError(
        f"The vLLM engine failed request {request_id}: {type(inner).__name__}: {inner}",
        code="engine_error",
    )


def failed_output(request_id: str) -> InternalError:
    """vLLM ended a request with ``finish_reason='error'``."""
    log.error("vLLM ended request %s with an error", request_id)
    return InternalError(f"The vLLM engine failed request {request_id}", code="engine_error")
