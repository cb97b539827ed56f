"""Every error status becomes its own class, carrying the API's error fields."""

from __future__ import annotations

import httpx
import pytest

import tokenfactory.sdk as sdk
from tests.sdk.conftest import Recorder, chat_completion, error_body, reply

CASES = [
    (400, "invalid_request", sdk.BadRequestError),
    (401, "authentication_error", sdk.AuthenticationError),
    (402, "insufficient_balance", sdk.InsufficientBalanceError),
    (403, "permission_denied", sdk.PermissionDeniedError),
    (404, "not_found", sdk.NotFoundError),
    (409, "conflict", sdk.ConflictError),
    (429, "rate_limit_exceeded", sdk.RateLimitError),
    (500, "server_error", sdk.InternalServerError),
    (503, "service_unavailable", sdk.ServiceUnavailableError),
]


def create(client):
    return client.chat.completions.create(
        model="test/chat", messages=[{"role": "user", "content": "hi"}]
    )


@pytest.mark.parametrize(("status", "type_", "cls"), CASES)
def test_status_maps_to_class_with_fields(make_client, status, type_, cls):
    handler = Recorder(
        reply(status, error_body(f"boom {status}", type_), headers={"x-request-id": "req-42"})
    )
    client = make_client(handler, max_retries=0)
    with pytest.raises(cls) as info:
        create(client)
    err = info.value
    assert type(err) is cls
    assert isinstance(err, sdk.APIStatusError)
    assert isinstance(err, sdk.APIError)
    assert isinstance(err, sdk.TokenFactoryError)
    assert (err.status_code, err.type, err.code) == (status, type_, type_)
    assert err.message == f"boom {status}"
    assert err.request_id == "req-42"
    assert err.response.status_code == status
    assert err.request.url.path == "/v1/chat/completions"
    assert f"boom {status}" in str(err) and "req-42" in str(err)


@pytest.mark.parametrize(
    ("status", "cls"), [(502, sdk.InternalServerError), (418, sdk.APIStatusError)]
)
def test_other_statuses(make_client, status, cls):
    client = make_client(Recorder(reply(status, error_body("odd", "x"))), max_retries=0)
    with pytest.raises(sdk.APIStatusError) as info:
        create(client)
    assert type(info.value) is cls
    assert info.value.status_code == status


def test_non_json_error_body_keeps_text(make_client):
    client = make_client(Recorder(reply(502, content=b"Bad Gateway from proxy")), max_retries=0)
    with pytest.raises(sdk.InternalServerError) as info:
        create(client)
    assert info.value.message == "Bad Gateway from proxy"
    assert info.value.code is None


def test_connection_error_tree(make_client):
    client = make_client(Recorder(httpx.ConnectError("refused")), max_retries=0)
    with pytest.raises(sdk.APIConnectionError) as info:
        create(client)
    assert not isinstance(info.value, sdk.APITimeoutError)
    assert "refused" in str(info.value)


def test_invalid_success_body_is_a_validation_error(make_client):
    client = make_client(Recorder(reply(200, {"id": "x"})))
    with pytest.raises(sdk.APIResponseValidationError):
        create(client)
    client = make_client(Recorder(reply(200, content=b"<html>")))
    with pytest.raises(sdk.APIResponseValidationError):
        create(client)


def test_success_needs_no_error(make_client):
    client = make_client(Recorder(reply(200, chat_completion("fine"))))
    assert create(client).choices[0].message.content == "fine"
