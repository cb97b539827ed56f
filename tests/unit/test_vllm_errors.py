"""vLLM's exceptions become the API's typed errors, with the request id in the log."""

from __future__ import annotations

import logging

import pytest

from tokenfactory.engine.vllm import errors as vllm_errors
from tokenfactory.errors import (
    InternalError,
    InvalidRequestError,
    UnavailableError,
    UnsupportedSchemaError,
)


def _chained(outer: BaseException, cause: BaseException) -> BaseException:
    try:
        try:
            raise cause
        except BaseException as inner:
            raise outer from inner
    except BaseException as caught:
        return caught


def _engine_errors():
    exceptions = pytest.importorskip("vllm.v1.engine.exceptions")
    return exceptions.EngineGenerateError, exceptions.EngineDeadError


def test_validation_errors_are_400s_and_schema_ones_name_the_schema():
    error = vllm_errors.translate(ValueError("max_tokens must be at least 1"), "r1")
    assert type(error) is InvalidRequestError and error.status_code == 400
    error = vllm_errors.translate(ValueError("Invalid JSON schema: $ref"), "r1", structured=True)
    assert isinstance(error, UnsupportedSchemaError) and error.status_code == 400


def test_engine_generate_error_with_a_validation_cause_is_a_400():
    generate_error, _ = _engine_errors()
    exc = _chained(generate_error(), ValueError("The grammar could not be compiled"))
    error = vllm_errors.translate(exc, "r2", structured=True)
    assert isinstance(error, UnsupportedSchemaError)
    assert "grammar" in error.message


def test_an_internal_failure_is_a_500_in_our_shape_naming_the_request(caplog):
    generate_error, _ = _engine_errors()
    exc = _chained(generate_error(), TypeError("'<' not supported"))
    with caplog.at_level(logging.ERROR, logger="tokenfactory.engine.vllm"):
        error = vllm_errors.translate(exc, "chatcmpl-abc")
    assert isinstance(error, InternalError) and error.code == "engine_error"
    body = error.to_dict()["error"]
    assert "chatcmpl-abc" in body["message"] and "TypeError" in body["message"]
    assert body["type"] == "server_error"
    assert any("chatcmpl-abc" in r.getMessage() for r in caplog.records)


def test_a_dead_engine_is_a_503(caplog):
    _, dead_error = _engine_errors()
    with caplog.at_level(logging.ERROR, logger="tokenfactory.engine.vllm"):
        error = vllm_errors.translate(dead_error(), "r3")
    assert isinstance(error, UnavailableError) and error.status_code == 503
    assert "r3" in error.message
    assert any("r3" in r.getMessage() for r in caplog.records)


def test_our_own_errors_pass_through():
    mine = InvalidRequestError("nope")
    assert vllm_errors.translate(mine, "r4") is mine


def test_vllms_own_client_errors_are_4xx():
    """0.32 raises VLLMValidationError (not a ValueError) for a grammar it cannot compile."""
    exceptions = pytest.importorskip("vllm.exceptions")
    generate_error, _ = _engine_errors()
    invalid = exceptions.VLLMValidationError('Grammar error: invalid regex "("')
    error = vllm_errors.translate(_chained(generate_error(), invalid), "r5", structured=True)
    assert isinstance(error, UnsupportedSchemaError) and error.status_code == 400
    if hasattr(exceptions, "VLLMNotFoundError"):
        missing = exceptions.VLLMNotFoundError("LoRA adapter 'x' not found")
        assert vllm_errors.translate(missing, "r6").status_code == 404
