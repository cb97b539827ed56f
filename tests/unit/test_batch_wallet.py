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


def test_the_upload_check_counts_chinese_and_emoji_with_the_models_tokenizer(api, fake_gateway):
    """What admission will hold for each line: the model's tokenizer over the chat template plus
    ``max_tokens`` (not characters); the line then runs on that wallet and leaves it >= 0."""
    import time

    from tests.fakes import FakeTokenizer

    messages = [{"role": "user", "content": "数据😀" * 100}]
    row = {"custom_id": "r", "body": {"model": "test/chat", "max_tokens": 5, "messages": messages}}
    data = (json.dumps(row) + "\n").encode()
    tokens = len(FakeTokenizer().apply_chat_template(messages)) + 5
    cost_micros = tokens * 0.05  # batch_24h: $0.05 per million tokens
    fake_gateway.keys.set_balance("default", int(cost_micros))  # a fraction of a line short
    r = api.post("/v1/batch", files={"file": ("b.jsonl", data)}, data={"sla": "24h"})
    assert r.status_code == 402, r.text
    fake_gateway.keys.set_balance("default", int(cost_micros) + 1)
    r = api.post("/v1/batch", files={"file": ("b.jsonl", data)}, data={"sla": "24h"})
    assert r.status_code == 200, r.text
    deadline = time.monotonic() + 30
    while api.get(f"/v1/batch/{r.json()['id']}").json()["status"] != "completed":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    (line,) = [json.loads(x) for x in api.get(f"/v1/batch/{r.json()['id']}/results").iter_lines()]
    assert line["response"]["status_code"] == 200
    assert fake_gateway.keys.workspace("default").balance_micros >= 0
