"""GET /metrics: Prometheus text with requests, tokens, latency/TTFT histograms, engine gauges."""

from __future__ import annotations

import re

from tokenfactory.core import UsageRecord
from tokenfactory.store import Principal, Workspace
from tokenfactory.usage.metrics import Metrics

CHAT = "/v1/chat/completions"
SAMPLE = re.compile(r"^([a-z_]+)(\{[^}]*\})? (\S+)$")


def parse(text: str) -> dict[str, float]:
    """Every sample line as ``name{labels}`` → value; fails on a malformed line."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("# HELP ") or line.startswith("# TYPE "):
            continue
        m = SAMPLE.match(line)
        assert m, f"not a Prometheus sample line: {line!r}"
        out[m.group(1) + (m.group(2) or "")] = float(m.group(3))
    return out


def test_metrics_count_requests_tokens_and_latency(api):
    usage = []
    for _ in range(3):
        usage.append(
            api.post(
                CHAT,
                json={
                    "model": "test/chat",
                    "messages": [{"role": "user", "content": "hi"}],
                    "max_tokens": 4,
                },
            ).json()["usage"]
        )
    api.post("/v1/embeddings", json={"model": "test/embed", "input": "abc"})
    api.post(CHAT, json={"model": "nope", "messages": [{"role": "user", "content": "x"}]})
    r = api.get("/metrics")
    assert r.status_code == 200 and r.headers["content-type"].startswith(
        "text/plain; version=0.0.4"
    )
    m = parse(r.text)
    ok = 'endpoint="/v1/chat/completions",model="test/chat",tier="realtime",status="200"'
    assert m[f"tokenfactory_requests_total{{{ok}}}"] == 3
    # a model nobody serves is labelled "other": bad requests cannot add series without bound
    failed = 'endpoint="/v1/chat/completions",model="other",tier="realtime",status="404"'
    assert m[f"tokenfactory_requests_total{{{failed}}}"] == 1
    assert "nope" not in r.text
    chat = 'model="test/chat",tier="realtime"'
    assert m[f"tokenfactory_prompt_tokens_total{{{chat}}}"] == sum(
        u["prompt_tokens"] for u in usage
    )
    assert m[f"tokenfactory_completion_tokens_total{{{chat}}}"] == 12
    assert m['tokenfactory_prompt_tokens_total{model="test/embed",tier="embeddings"}'] == 3
    lat = 'endpoint="/v1/chat/completions",model="test/chat"'
    assert m[f"tokenfactory_request_latency_seconds_count{{{lat}}}"] == 3
    assert m[f'tokenfactory_request_latency_seconds_bucket{{{lat},le="+Inf"}}'] == 3
    assert m['tokenfactory_time_to_first_token_seconds_count{model="test/chat"}'] == 3
    for gauge in (
        "tokenfactory_queue_depth",
        "tokenfactory_requests_running",
        "tokenfactory_engine_utilization",
        "tokenfactory_engine_ready",
    ):
        assert gauge in m
    assert m["tokenfactory_engine_ready"] == 1
    assert "workspace" not in r.text  # server-wide totals only


def test_histogram_buckets_are_cumulative_and_labels_escaped():
    metrics = Metrics()
    principal = Principal(Workspace("ws", "w", "free", None), "key")
    for latency in (0.03, 0.3, 3.0, 300.0):
        metrics.observe(
            UsageRecord(principal, CHAT, 'we"ird\\model', "realtime", 1, 1, latency, 0.02, 200)
        )
    m = parse(metrics.render({}))
    label = 'endpoint="/v1/chat/completions",model="we\\"ird\\\\model"'
    counts = [
        m[f'tokenfactory_request_latency_seconds_bucket{{{label},le="{le}"}}']
        for le in ("0.05", "0.5", "5", "+Inf")
    ]
    assert counts == [1, 2, 3, 4]
    assert m[f"tokenfactory_request_latency_seconds_sum{{{label}}}"] == 303.33


def test_engine_utilisation_is_the_busy_share_of_the_last_minute():
    metrics = Metrics()
    for i in range(10):
        metrics.sample_engine(busy=i < 3, now=1000.0 + i)
    assert metrics.utilisation() == 0.3
    metrics.sample_engine(busy=True, now=1000.0 + 65)  # older samples leave the window
    assert metrics.utilisation() == 1 / 6  # samples at 1005..1009 and the new one


def test_queue_depth_and_running_come_from_the_engine(api, fake_engine, monkeypatch):
    from tokenfactory.engine.protocol import EngineHealth

    health = EngineHealth(True, "fake", "cpu", fake_engine.models(), 2, 5)
    monkeypatch.setattr(fake_engine, "health", lambda: health)
    m = parse(api.get("/metrics").text)
    assert (m["tokenfactory_queue_depth"], m["tokenfactory_requests_running"]) == (5, 2)
    assert m["tokenfactory_models_loaded"] == 2


async def test_the_sampler_feeds_utilisation_until_cancelled():
    import asyncio

    from tokenfactory.usage.metrics import sample_forever

    metrics = Metrics()
    busy = iter([True, True, False, True] * 100)
    task = asyncio.create_task(sample_forever(metrics, lambda: next(busy), interval=0.001))
    while len(metrics.busy_samples) < 8:
        await asyncio.sleep(0.001)
    task.cancel()
    assert 0.5 <= metrics.utilisation() <= 0.8
