"""A batch the workspace's wallet cannot cover is refused with 402 at upload; nothing is stored."""

from __future__ import annotations

import json


def upload(api, n: int, max_tokens: int = 10):
    rows = [
        {"custom_id": f"r{i}", "body": {"model": "test/chat", "max_tokens": max_tokens,
                                        "messages": [{"role": "user", "content": "hi"}]}}
        for i in range(n)
    ]  # fmt: skip
    data = "".join(json.dumps(r) + "\n" for r in rows).encode()
    return api.post("/v1/batch", files={"file": ("b.jsonl", data)}, data={"sla": "24h"})


def test_batch_beyond_the_wallet_is_402_and_not_stored(api, fake_gateway):
    fake_gateway.keys.set_balance("default", 1)  # one microdollar
    r = upload(api, 5)
    assert r.status_code == 402, r.text
    assert r.json()["error"]["type"] == "insufficient_balance"
    assert "batch of 5 requests" in r.json()["error"]["message"]
    assert api.get("/v1/batch").json()["data"] == []


def test_batch_within_the_wallet_is_accepted(api, fake_gateway):
    fake_gateway.keys.set_balance("default", 10_000)
    r = upload(api, 5)
    assert r.status_code == 200, r.text
    assert r.json()["total_requests"] == 5


def test_no_wallet_means_no_check(api):
    assert upload(api, 50, max_tokens=4096).status_code == 200
