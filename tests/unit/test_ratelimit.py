"""Per-workspace token buckets: limits, headers, reservations and settlement, concurrency."""

from __future__ import annotations

import asyncio
import threading

import httpx
import pytest

from tokenfactory.errors import RateLimitExceededError
from tokenfactory.ratelimit import DEFAULT_TIERS, RateLimiter, Tier

T0 = 1_800_000_000.0
CHAT = "/v1/chat/completions"


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now


def test_default_tiers_are_the_published_limits():
    assert (DEFAULT_TIERS["free"].rpm, DEFAULT_TIERS["free"].tpm) == (20, 40_000)
    assert (DEFAULT_TIERS["standard"].rpm, DEFAULT_TIERS["standard"].tpm) == (60, 150_000)
    assert (DEFAULT_TIERS["pro"].rpm, DEFAULT_TIERS["pro"].tpm) == (200, 500_000)
    assert DEFAULT_TIERS["unlimited"].unlimited


def test_requests_per_minute_then_429_with_retry_after_and_refill():
    clock = Clock()
    limiter = RateLimiter(clock=clock)
    for i in range(20):
        limiter.acquire("ws", "free", 10)
        assert limiter.headers("ws", "free")["x-ratelimit-remaining"] == str(19 - i)
    with pytest.raises(RateLimitExceededError) as info:
        limiter.acquire("ws", "free", 10)
    err = info.value
    assert err.status_code == 429 and err.code == "rate_limit_exceeded"
    assert err.headers["retry-after"] == "3"  # one request refills every 60/20 s
    assert err.headers["x-ratelimit-limit"] == "20"
    assert err.headers["x-ratelimit-remaining"] == "0"
    assert int(err.headers["x-ratelimit-reset"]) == T0 + 60  # full again in a minute
    clock.now += 3.0
    limiter.acquire("ws", "free", 10)  # one request's worth refilled
    with pytest.raises(RateLimitExceededError):
        limiter.acquire("ws", "free", 10)


def test_token_budget_reserves_the_estimate_and_settles_to_real_usage():
    clock = Clock()
    limiter = RateLimiter({"t": Tier("t", 100, 1000)}, clock=clock)
    first = limiter.acquire("ws", "t", 600)  # prompt + max_tokens
    with pytest.raises(RateLimitExceededError) as info:
        limiter.acquire("ws", "t", 600)  # 400 left: the reservation counts
    assert "tokens per minute" in info.value.message
    assert info.value.headers["retry-after"] == "12"  # 200 tokens at 1000/60 per s
    limiter.settle(first, 50)  # the request really used 50 tokens
    assert limiter.headers("ws", "t")["x-ratelimit-remaining-tokens"] == "950"
    limiter.acquire("ws", "t", 600)
    limiter.settle(first, 50)  # settling twice changes nothing
    assert limiter.headers("ws", "t")["x-ratelimit-remaining-tokens"] == "350"


def test_a_request_larger_than_the_minute_budget_is_told_so_and_not_retried():
    limiter = RateLimiter(clock=Clock())
    with pytest.raises(RateLimitExceededError) as info:
        limiter.acquire("ws", "free", 40_001)
    assert info.value.code == "request_too_large"
    assert info.value.headers["x-should-retry"] == "false"


def test_cancel_gives_everything_back_and_tier_change_applies_at_once():
    clock = Clock()
    limiter = RateLimiter(clock=clock)
    r = limiter.acquire("ws", "free", 1000)
    limiter.cancel(r)
    h = limiter.headers("ws", "free")
    assert (h["x-ratelimit-remaining"], h["x-ratelimit-remaining-tokens"]) == ("20", "40000")
    for _ in range(20):
        limiter.acquire("ws", "free", 1)
    h = limiter.headers("ws", "pro")  # 20 used this minute still count against 200
    assert (h["x-ratelimit-limit"], h["x-ratelimit-remaining"]) == ("200", "180")
    limiter.acquire("ws", "pro", 1)
    assert limiter.headers("ws", "free")["x-ratelimit-remaining"] == "0"
    unlimited = limiter.headers("ws", "unlimited")
    assert unlimited["x-ratelimit-limit"] == "unlimited"


def test_threads_racing_for_the_budget_never_overshoot():
    limiter = RateLimiter({"t": Tier("t", 1000, 5000)}, clock=Clock())
    admitted: list[int] = []
    barrier = threading.Barrier(16)

    def worker() -> None:
        barrier.wait()
        for _ in range(50):
            try:
                limiter.acquire("ws", "t", 37)
                admitted.append(37)
            except RateLimitExceededError:
                pass

    threads = [threading.Thread(target=worker) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(admitted) <= 5000
    assert len(admitted) == 5000 // 37  # and every token that fits is used


# -- through the gateway ---------------------------------------------------------------------
def free_key(gateway, name="alice", tier="free") -> str:
    gateway.keys.create_workspace(name, tier=tier)
    return gateway.keys.create_key(name, name="k")[1]


def body(max_tokens=5):
    return {
        "model": "test/chat",
        "messages": [{"role": "user", "content": "hi"}],
        "max_tokens": max_tokens,
    }


async def test_burst_of_concurrent_requests_admits_exactly_the_budget(fake_gateway, fake_engine):
    from tokenfactory.gateway.app import create_app

    fake_engine.delay = 0.001
    clock = Clock()
    fake_gateway.installed[RateLimiter].clock = clock
    key = free_key(fake_gateway)
    await fake_gateway.start_engine()
    transport = httpx.ASGITransport(app=create_app(fake_gateway))
    async with httpx.AsyncClient(
        transport=transport, base_url="http://t", headers={"Authorization": f"Bearer {key}"}
    ) as client:
        responses = await asyncio.gather(*(client.post(CHAT, json=body()) for _ in range(30)))
    ok = [r for r in responses if r.status_code == 200]
    limited = [r for r in responses if r.status_code == 429]
    assert len(ok) == 20 and len(limited) == 10
    assert len(fake_engine.requests) == 20  # nothing over budget reached the engine
    for r in limited:
        assert r.json()["error"]["type"] == "rate_limit_exceeded"
        assert r.json()["error"]["code"] == "rate_limit_exceeded"
        assert int(r.headers["retry-after"]) >= 1
        assert r.headers["x-ratelimit-limit"] == "20"
        assert r.headers["x-ratelimit-remaining"] == "0"
        assert int(r.headers["x-ratelimit-reset"]) > T0
    remaining = sorted(int(r.headers["x-ratelimit-remaining"]) for r in ok)
    assert remaining == list(range(20))  # each admission saw the one before it


async def test_token_budget_holds_under_concurrency_and_settles(fake_gateway, fake_engine):
    from tokenfactory.gateway.app import create_app

    fake_engine.delay = 0.001
    limiter = fake_gateway.installed[RateLimiter]
    limiter.clock = Clock()
    limiter.tiers["tiny"] = Tier("tiny", 1000, 1000)
    key = free_key(fake_gateway, "bob", tier="tiny")
    await fake_gateway.start_engine()
    transport = httpx.ASGITransport(app=create_app(fake_gateway))
    async with httpx.AsyncClient(
        transport=transport, base_url="http://t", headers={"Authorization": f"Bearer {key}"}
    ) as client:
        # each reserves prompt (20 fake tokens) + 180 = 200 tokens: only 5 fit in 1000
        responses = await asyncio.gather(*(client.post(CHAT, json=body(180)) for _ in range(12)))
        ok = [r for r in responses if r.status_code == 200]
        assert len(ok) == 5
        used = sum(r.json()["usage"]["total_tokens"] for r in ok)
        assert used < 1000
        after = await client.get("/v1/models")
    # settled to real usage: the unused part of each reservation came back
    assert after.headers["x-ratelimit-remaining-tokens"] == str(1000 - used)


def test_every_authenticated_response_carries_the_headers(api, fake_gateway):
    key = free_key(fake_gateway)
    auth = {"Authorization": f"Bearer {key}"}
    for method, path, payload in [
        ("GET", "/v1/models", None),
        ("POST", CHAT, body()),
        ("POST", CHAT, {"model": "nope", "messages": []}),  # 400
        ("GET", "/v1/usage", None),
        ("GET", "/v1/batch/batch_missing", None),  # 404
    ]:
        r = api.request(method, path, json=payload, headers=auth)
        assert r.headers["x-ratelimit-limit"] == "20", (path, r.status_code)
        assert "x-ratelimit-remaining" in r.headers and "x-ratelimit-reset" in r.headers
    r = api.get("/v1/models")  # the default local workspace is unlimited
    assert r.headers["x-ratelimit-limit"] == "unlimited"
    r = api.get("/v1/models", headers={"Authorization": "Bearer nope-nope-nope"})
    assert r.status_code == 401 and "x-ratelimit-limit" not in r.headers


def test_streams_are_limited_too(api, fake_gateway):
    fake_gateway.installed[RateLimiter].clock = Clock()
    key = free_key(fake_gateway)
    auth = {"Authorization": f"Bearer {key}"}
    for _ in range(20):
        with api.stream("POST", CHAT, json={**body(), "stream": True}, headers=auth) as r:
            assert r.status_code == 200 and r.headers["x-ratelimit-limit"] == "20"
            r.read()
    r = api.post(CHAT, json={**body(), "stream": True}, headers=auth)
    assert r.status_code == 429 and r.headers["retry-after"]
