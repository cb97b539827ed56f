"""Which failures are retried, and how long the client waits (the clock is fake)."""

from __future__ import annotations

import email.utils

import httpx
import pytest

import tokenfactory.sdk as sdk
from tests.sdk.conftest import Recorder, chat_completion, error_body, reply

OK = reply(200, chat_completion("ok"))


def create(client, **kwargs):
    return client.chat.completions.create(
        model="test/chat", messages=[{"role": "user", "content": "hi"}], **kwargs
    )


@pytest.mark.parametrize("status", [408, 409, 429, 500, 502, 503, 504])
def test_retryable_status_then_success(make_client, clock, status):
    handler = Recorder(reply(status, error_body("try again", "x")), OK)
    client = make_client(handler)
    assert create(client).choices[0].message.content == "ok"
    assert handler.calls == 2
    assert clock.sleeps == [0.5]  # initial backoff, no jitter with random() == 0


@pytest.mark.parametrize("status", [400, 401, 402, 404, 422])
def test_client_errors_never_retried(make_client, clock, status):
    handler = Recorder(reply(status, error_body("no", "x")), OK)
    client = make_client(handler, max_retries=5)
    with pytest.raises(sdk.APIStatusError):
        create(client)
    assert handler.calls == 1
    assert clock.sleeps == []


def test_connection_errors_retried(make_client, clock):
    handler = Recorder(httpx.ConnectError("refused"), httpx.RemoteProtocolError("eof"), OK)
    client = make_client(handler)
    assert create(client).choices[0].message.content == "ok"
    assert handler.calls == 3
    assert clock.sleeps == [0.5, 1.0]


def test_gives_up_after_max_retries(make_client, clock):
    handler = Recorder(reply(503, error_body("loading", "service_unavailable")))
    client = make_client(handler, max_retries=3)
    with pytest.raises(sdk.ServiceUnavailableError):
        create(client)
    assert handler.calls == 4
    assert clock.sleeps == [0.5, 1.0, 2.0]


def test_per_call_max_retries(make_client):
    handler = Recorder(reply(500, error_body("x", "server_error")))
    client = make_client(handler, max_retries=5)
    with pytest.raises(sdk.InternalServerError):
        create(client, max_retries=1)
    assert handler.calls == 2


def test_backoff_is_capped_and_jittered(clock):
    policy = clock.policy(random=lambda: 1.0)
    assert policy.backoff(0) == pytest.approx(0.5 * 0.75)
    assert policy.backoff(3) == pytest.approx(4.0 * 0.75)
    assert policy.backoff(10) == pytest.approx(8.0 * 0.75)
    assert clock.policy(random=lambda: 0.0).backoff(10) == 8.0


def test_retry_after_seconds(make_client, clock):
    handler = Recorder(
        reply(429, error_body("slow", "rate_limit_exceeded"), headers={"Retry-After": "7"}), OK
    )
    create(make_client(handler))
    assert clock.sleeps == [7.0]


def test_retry_after_ms(make_client, clock):
    handler = Recorder(reply(429, error_body("slow", "x"), headers={"retry-after-ms": "250"}), OK)
    create(make_client(handler))
    assert clock.sleeps == [0.25]


def test_retry_after_http_date(make_client, clock):
    date = email.utils.formatdate(clock.now + 12, usegmt=True)
    handler = Recorder(reply(503, error_body("busy", "x"), headers={"Retry-After": date}), OK)
    create(make_client(handler))
    assert clock.sleeps == [pytest.approx(12.0)]


def test_rate_limit_reset_unix_time(make_client, clock):
    reset = str(int(clock.now) + 9)
    handler = Recorder(
        reply(429, error_body("slow", "x"), headers={"X-RateLimit-Reset": reset}), OK
    )
    create(make_client(handler))
    assert clock.sleeps == [pytest.approx(9.0)]


def test_rate_limit_reset_seconds(make_client, clock):
    handler = Recorder(reply(429, error_body("slow", "x"), headers={"X-RateLimit-Reset": "3"}), OK)
    create(make_client(handler))
    assert clock.sleeps == [3.0]


def test_retry_after_wins_over_rate_limit_reset(make_client, clock):
    headers = {"Retry-After": "2", "X-RateLimit-Reset": str(int(clock.now) + 30)}
    create(make_client(Recorder(reply(429, error_body("slow", "x"), headers=headers), OK)))
    assert clock.sleeps == [2.0]


def test_unreasonable_server_wait_falls_back_to_backoff(make_client, clock):
    handler = Recorder(reply(429, error_body("slow", "x"), headers={"Retry-After": "3600"}), OK)
    create(make_client(handler))
    assert clock.sleeps == [0.5]


def test_should_retry_header_overrides(make_client):
    handler = Recorder(reply(500, error_body("x", "x"), headers={"x-should-retry": "false"}), OK)
    with pytest.raises(sdk.InternalServerError):
        create(make_client(handler))
    assert handler.calls == 1
    handler = Recorder(reply(400, error_body("x", "x"), headers={"x-should-retry": "true"}), OK)
    create(make_client(handler))
    assert handler.calls == 2


def test_timeout_becomes_api_timeout_error_after_retries(make_client, clock):
    handler = Recorder(httpx.ReadTimeout("slow"))
    with pytest.raises(sdk.APITimeoutError) as info:
        create(make_client(handler))
    assert isinstance(info.value, sdk.APIConnectionError)
    assert handler.calls == 3
    assert len(clock.sleeps) == 2


def test_timeout_option_reaches_the_request(make_client):
    handler = Recorder(OK)
    client = make_client(handler, timeout=30.0)
    create(client)
    assert handler.requests[0].extensions["timeout"]["read"] == 30.0
    create(client, timeout=httpx.Timeout(2.5))
    assert handler.requests[1].extensions["timeout"] == httpx.Timeout(2.5).as_dict()


async def test_async_retries_and_waits(make_async_client, clock):
    handler = Recorder(
        reply(429, error_body("slow", "rate_limit_exceeded"), headers={"Retry-After": "1.5"}),
        httpx.ConnectError("refused"),
        OK,
    )
    async with make_async_client(handler) as client:
        result = await create(client)
    assert result.choices[0].message.content == "ok"
    assert handler.calls == 3
    assert clock.sleeps == [1.5, 1.0]


async def test_async_client_error_not_retried(make_async_client, clock):
    handler = Recorder(reply(402, error_body("pay", "insufficient_balance")), OK)
    client = make_async_client(handler)
    with pytest.raises(sdk.InsufficientBalanceError):
        await create(client)
    assert handler.calls == 1
    await client.close()
