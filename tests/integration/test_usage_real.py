"""Usage, limits and metrics on the real server (embedded models): what the responses said is
what the workspace is charged, and /metrics sees the real latency and TTFT."""

from __future__ import annotations

import json
import re

import httpx
import pytest

from tokenfactory.config import DEFAULT_CHAT_MODEL, DEFAULT_EMBEDDING_MODEL
from tokenfactory.usage.repository import UsageRepository

pytestmark = pytest.mark.integration


def test_real_requests_are_metered_charged_and_limited(server):
    keys = server.core.keys
    name = "integration-usage"
    if keys.find_workspace(name) is None:
        keys.create_workspace(name, tier="free")
    keys.set_balance(name, 1_000_000)
    ws = keys.workspace(name)
    start = server.core.installed[UsageRepository].available_pico(ws.id)
    headers = {"Authorization": f"Bearer {keys.create_key(name)[1]}"}
    with httpx.Client(base_url=server.base_url, headers=headers, timeout=120) as client:
        before = client.get("/usage").json()["total"]
        chat = client.post(
            "/chat/completions",
            json={
                "model": DEFAULT_CHAT_MODEL,
                "messages": [{"role": "user", "content": "Say hi."}],
                "max_tokens": 4,
            },
        )
        assert chat.status_code == 200 and chat.headers["x-ratelimit-limit"] == "20"
        stream = client.post(
            "/chat/completions",
            json={
                "model": DEFAULT_CHAT_MODEL,
                "messages": [{"role": "user", "content": "Count to three."}],
                "max_tokens": 4,
                "stream": True,
                "stream_options": {"include_usage": True},
            },
        )
        chunks = [json.loads(x[6:]) for x in stream.text.splitlines() if x.startswith("data: {")]
        stream_usage = next(c["usage"] for c in chunks if c.get("usage"))
        emb = client.post("/embeddings", json={"model": DEFAULT_EMBEDDING_MODEL, "input": "hello"})
        after = client.get("/usage").json()

    realtime = chat.json()["usage"]["total_tokens"] + stream_usage["total_tokens"]
    embedded = emb.json()["usage"]["total_tokens"]
    assert after["total"]["requests"] - before["requests"] == 3
    assert after["total"]["total_tokens"] - before["total_tokens"] == realtime + embedded
    cost = realtime * 100_000 + embedded * 20_000
    assert after["total"]["cost_pico"] - before["cost_pico"] == cost
    assert server.core.installed[UsageRepository].available_pico(ws.id) == start - cost

    metrics = httpx.get(
        server.url + "/metrics", headers={"Authorization": f"Bearer {server.api_key}"}, timeout=30
    ).text
    ttft = re.search(
        r'tokenfactory_time_to_first_token_seconds_count\{model="([^"]+)"\} (\d+)', metrics
    )
    assert ttft and int(ttft.group(2)) >= 2
    assert "tokenfactory_engine_utilization" in metrics
