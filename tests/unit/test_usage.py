"""Usage metering, prices and the wallet: totals equal what the responses said, 402 before
anything runs, each request debited exactly once (streams cut off by the client included)."""

from __future__ import annotations

import asyncio
import json
import time

import httpx
import pytest

from tokenfactory.errors import InvalidRequestError
from tokenfactory.usage.prices import PICO_PER_USD, PriceTable
from tokenfactory.usage.repository import UsageRepository

CHAT = "/v1/chat/completions"
PICO_PER_TOKEN = {
    "realtime": 100_000,
    "batch_1h": 70_000,
    "batch_24h": 50_000,
    "embeddings": 20_000,
}


def chat(content="hi", max_tokens=5, **extra):
    return {
        "model": "test/chat",
        "messages": [{"role": "user", "content": content}],
        "max_tokens": max_tokens,
        **extra,
    }


def sse_usage(text: str) -> dict:
    chunks = [json.loads(x[6:]) for x in text.splitlines() if x.startswith("data: {")]
    return next(c["usage"] for c in chunks if c.get("usage"))


def wait_batch(api, batch_id, auth=None, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = api.get(f"/v1/batch/{batch_id}", headers=auth).json()
        if job["status"] in ("completed", "failed", "cancelled", "expired"):
            return job
        time.sleep(0.05)
    raise AssertionError("batch did not finish")


def test_usage_and_cost_equal_the_sum_of_the_responses(api, fake_gateway):
    seen: list[tuple[str, int, int]] = []  # (tier, prompt, completion) per response

    r = api.post(CHAT, json=chat())
    u = r.json()["usage"]
    seen.append(("realtime", u["prompt_tokens"], u["completion_tokens"]))

    r = api.post(
        CHAT, json=chat("stream me", 8, stream=True, stream_options={"include_usage": True})
    )
    u = sse_usage(r.text)
    seen.append(("realtime", u["prompt_tokens"], u["completion_tokens"]))

    r = api.post("/v1/completions", json={"model": "test/chat", "prompt": "abc", "max_tokens": 3})
    u = r.json()["usage"]
    seen.append(("realtime", u["prompt_tokens"], u["completion_tokens"]))

    r = api.post("/v1/embeddings", json={"model": "test/embed", "input": ["one", "two three"]})
    u = r.json()["usage"]
    seen.append(("embeddings", u["prompt_tokens"], 0))

    lines = [{"custom_id": f"c{i}", "body": chat(f"line {i}", 4)} for i in range(3)]
    payload = "".join(json.dumps(x) + "\n" for x in lines).encode()
    job = api.post("/v1/batch", files={"file": ("b.jsonl", payload)}, data={"sla": "24h"}).json()
    assert wait_batch(api, job["id"])["status"] == "completed"
    for line in api.get(f"/v1/batch/{job['id']}/results").text.splitlines():
        u = json.loads(line)["response"]["body"]["usage"]
        seen.append(("batch_24h", u["prompt_tokens"], u["completion_tokens"]))

    report = api.get("/v1/usage", params={"group_by": "tier"}).json()
    by_tier = {row["tier"]: row for row in report["data"]}
    assert set(by_tier) == {"realtime", "embeddings", "batch_24h"}
    for tier, row in by_tier.items():
        mine = [s for s in seen if s[0] == tier]
        assert row["requests"] == len(mine)
        assert row["prompt_tokens"] == sum(s[1] for s in mine)
        assert row["completion_tokens"] == sum(s[2] for s in mine)
        assert row["cost_pico"] == sum((s[1] + s[2]) * PICO_PER_TOKEN[tier] for s in mine)
    total = report["total"]
    assert total["total_tokens"] == sum(s[1] + s[2] for s in seen)
    assert total["cost_pico"] == sum((s[1] + s[2]) * PICO_PER_TOKEN[s[0]] for s in seen)
    assert total["cost_usd"] == pytest.approx(total["cost_pico"] / PICO_PER_USD)
    assert report["balance_usd"] is None  # the default local workspace has no wallet


def test_usage_rows_carry_model_tier_latency_ttft_status_and_key(api, fake_gateway):
    api.post(CHAT, json=chat())
    api.post(CHAT, json={"model": "no/such-model", "messages": [{"role": "user", "content": "x"}]})
    rows = fake_gateway.store.all("SELECT * FROM usage_records ORDER BY id")
    ok, missing = rows
    assert (ok["model"], ok["tier"], ok["endpoint"], ok["status"]) == (
        "test/chat",
        "realtime",
        CHAT,
        200,
    )
    assert ok["latency_ms"] > 0 and 0 < ok["ttft_ms"] <= ok["latency_ms"]
    assert ok["key_id"].startswith("key_") and ok["request_id"]
    assert (missing["model"], missing["status"], missing["cost_pico"]) == ("no/such-model", 404, 0)
    by_model = api.get("/v1/usage", params={"group_by": "model"}).json()["data"]
    assert {r["model"]: r["errors"] for r in by_model} == {"no/such-model": 1, "test/chat": 0}


def test_402_before_anything_runs_and_nothing_is_charged(api, fake_gateway, fake_engine):
    keys = fake_gateway.keys
    keys.create_workspace("poor", tier="standard")
    keys.set_balance("poor", 1)  # one microdollar: 10 realtime tokens
    key = keys.create_key("poor")[1]
    auth = {"Authorization": f"Bearer {key}"}
    r = api.post(CHAT, json=chat(max_tokens=50), headers=auth)
    assert r.status_code == 402
    err = r.json()["error"]
    assert (err["type"], err["code"]) == ("insufficient_balance", "insufficient_balance")
    assert "x-ratelimit-limit" in r.headers
    assert fake_engine.requests == []
    assert keys.workspace("poor").balance_micros == 1
    report = api.get("/v1/usage", headers=auth).json()
    assert report["total"]["cost_pico"] == 0 and report["total"]["errors"] == 1
    assert report["balance_usd"] == pytest.approx(1e-6)
    # a 402 does not use up the rate limit either
    assert r.headers["x-ratelimit-remaining"] == r.headers["x-ratelimit-limit"]
    streamed = api.post(CHAT, json=chat(max_tokens=50, stream=True), headers=auth)
    assert (
        streamed.status_code == 402 and streamed.json()["error"]["code"] == "insufficient_balance"
    )
    embed = api.post(
        "/v1/embeddings", json={"model": "test/embed", "input": "x" * 200}, headers=auth
    )
    assert embed.status_code == 402
    assert fake_engine.requests == [] and keys.workspace("poor").balance_micros == 1


def test_wallet_is_debited_exactly_the_cost_once(api, fake_gateway):
    keys = fake_gateway.keys
    keys.create_workspace("payer", tier="pro")
    keys.set_balance("payer", 1_000_000)  # $1
    auth = {"Authorization": f"Bearer {keys.create_key('payer')[1]}"}
    tokens = 0
    for i in range(7):
        tokens += api.post(CHAT, json=chat(f"q{i}"), headers=auth).json()["usage"]["total_tokens"]
    r = api.post("/v1/embeddings", json={"model": "test/embed", "input": "abcdef"}, headers=auth)
    emb_tokens = r.json()["usage"]["total_tokens"]
    spent_pico = tokens * 100_000 + emb_tokens * 20_000
    report = api.get("/v1/usage", headers=auth).json()
    assert report["total"]["cost_pico"] == spent_pico
    assert report["balance_usd"] == pytest.approx(1 - spent_pico / PICO_PER_USD)
    whole_micros, carried = divmod(spent_pico, 1_000_000)
    assert keys.workspace("payer").balance_micros == 1_000_000 - whole_micros
    assert fake_gateway.store.one("SELECT pico FROM wallet_remainders")["pico"] == carried


async def test_parallel_requests_cannot_overdraw_the_wallet(fake_gateway, fake_engine):
    from tokenfactory.gateway.app import create_app

    fake_engine.delay = 0.002
    keys = fake_gateway.keys
    keys.create_workspace("tight", tier="pro")
    # each request may cost up to (20 prompt + 100 max_tokens) x 0.1 micro = 12 micros
    keys.set_balance("tight", 36)
    key = keys.create_key("tight")[1]
    await fake_gateway.start_engine()
    transport = httpx.ASGITransport(app=create_app(fake_gateway))
    async with httpx.AsyncClient(
        transport=transport, base_url="http://t", headers={"Authorization": f"Bearer {key}"}
    ) as client:
        responses = await asyncio.gather(
            *(client.post(CHAT, json=chat(max_tokens=100)) for _ in range(8))
        )
    codes = sorted(r.status_code for r in responses)
    assert codes == [200] * 3 + [402] * 5
    used = sum(r.json()["usage"]["total_tokens"] for r in responses if r.status_code == 200)
    available = fake_gateway.installed[UsageRepository].available_pico(keys.workspace("tight").id)
    assert available == 36 * 1_000_000 - used * 100_000


def test_prices_are_configurable(tf_home, monkeypatch):
    (tf_home / "prices.json").write_text(json.dumps({"realtime": {"input": 0.2, "output": 0.6}}))
    table = PriceTable.from_config(tf_home)
    assert table.cost_pico("realtime", CHAT, 10, 10) == 10 * 200_000 + 10 * 600_000
    assert table.cost_pico("batch_1h", CHAT, 10, 0) == 10 * 70_000  # others keep defaults
    assert table.cost_pico("batch_1h", "/v1/embeddings", 10, 0) == 10 * 20_000
    monkeypatch.setenv("TOKENFACTORY_PRICES", '{"embeddings": {"input": 0.5}}')
    assert PriceTable.from_config(tf_home).cost_pico("embeddings", "/v1/embeddings", 2, 0) == (
        1_000_000
    )
    monkeypatch.setenv("TOKENFACTORY_PRICES", '{"realtime": {"input": -1}}')
    with pytest.raises(InvalidRequestError):
        PriceTable.from_config(tf_home)


def test_installed_prices_from_the_data_dir_are_used(tf_home):
    from tests.fakes import FakeEngine
    from tokenfactory.core import Core
    from tokenfactory.features import install_features
    from tokenfactory.store import Store

    (tf_home / "prices.json").write_text(json.dumps({"realtime": {"input": 1, "output": 2}}))
    gateway = Core(FakeEngine(), Store(tf_home / "p.sqlite3"))
    install_features(gateway)
    assert gateway.installed[PriceTable].cost_pico("realtime", CHAT, 1, 1) == 3_000_000


def test_usage_report_filters_and_validation(api):
    api.post(CHAT, json=chat())
    api.post("/v1/embeddings", json={"model": "test/embed", "input": "x"})
    r = api.get("/v1/usage", params={"model": "test/embed", "group_by": "day,model"}).json()
    assert [row["model"] for row in r["data"]] == ["test/embed"]
    assert r["data"][0]["day"] == time.strftime("%Y-%m-%d", time.gmtime())
    future = api.get("/v1/usage", params={"start": "2999-01-01"}).json()
    assert future["total"]["requests"] == 0
    bad = api.get("/v1/usage", params={"group_by": "colour"})
    assert bad.status_code == 400 and bad.json()["error"]["param"] == "group_by"
    assert api.get("/v1/usage", params={"start": "yesterday"}).status_code == 400
    series = api.get("/v1/usage/timeseries", params={"bucket": "minute"}).json()
    assert sum(p["requests"] for p in series["data"]) == 2
    assert series["models"] == ["test/chat", "test/embed"]
    assert all(p["latency_p50_ms"] <= p["latency_p99_ms"] for p in series["data"])
    assert api.get("/v1/usage/timeseries", params={"bucket": "week"}).status_code == 400


def test_batch_lines_are_debited_once_each_at_the_batch_price(api, fake_gateway):
    keys = fake_gateway.keys
    keys.create_workspace("bulk", tier="free")
    keys.set_balance("bulk", 1_000_000)
    auth = {"Authorization": f"Bearer {keys.create_key('bulk')[1]}"}
    lines = [{"custom_id": f"c{i}", "body": chat(f"line {i}", 6)} for i in range(5)]
    payload = "".join(json.dumps(x) + "\n" for x in lines).encode()
    r = api.post(
        "/v1/batch", files={"file": ("b.jsonl", payload)}, data={"sla": "1h"}, headers=auth
    )
    job = r.json()
    assert wait_batch(api, job["id"], auth)["status"] == "completed"
    results = api.get(f"/v1/batch/{job['id']}/results", headers=auth).text.splitlines()
    tokens = sum(json.loads(x)["response"]["body"]["usage"]["total_tokens"] for x in results)
    rows = fake_gateway.store.all("SELECT tier, cost_pico FROM usage_records")
    assert len(rows) == 5 and {r["tier"] for r in rows} == {"batch_1h"}
    ws = keys.workspace("bulk")
    assert fake_gateway.installed[UsageRepository].available_pico(ws.id) == 10**12 - tokens * 70_000
