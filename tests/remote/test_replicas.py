"""A gateway in front of two real upstream replicas: routing, metering, errors and faults.

Real processes and real HTTP (no mock of the upstream). The last test stops a replica, so it
stays last in this module.
"""

from __future__ import annotations

import json
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from .processes import CHAT_MODEL, sse, warm

pytestmark = pytest.mark.integration

CHAT = {"model": CHAT_MODEL, "messages": [{"role": "user", "content": "Say hi"}], "max_tokens": 3}


def upstreams(gw) -> dict[str, dict]:
    with gw.client() as c:
        return {u["url"]: u for u in c.get("/health").json()["upstreams"]}


def wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def test_models_list_the_remote_model_with_upstream_health(remote_gateway, replicas):
    with remote_gateway.client() as c:
        models = c.get("/v1/models").json()["data"]
        health = c.get("/health").json()
    assert [m["id"] for m in models] == [CHAT_MODEL]  # no local model was loaded
    assert models[0]["engine"] == "remote" and models[0]["status"] == "loaded"
    assert health["engine"] == "none"
    assert sorted(u["url"] for u in health["upstreams"]) == sorted(r.url + "/v1" for r in replicas)
    assert {u["state"] for u in health["upstreams"]} == {"healthy"}


def test_chat_completions_and_usage_from_the_upstream(remote_gateway):
    with remote_gateway.client() as c:
        answer = c.post("/v1/chat/completions", json=CHAT).json()
        assert answer["model"] == CHAT_MODEL and answer["choices"][0]["message"]["content"]
        assert answer["usage"]["completion_tokens"] == 3
        stream_body = {**CHAT, "stream": True, "stream_options": {"include_usage": True}}
        with c.stream("POST", "/v1/chat/completions", json=stream_body) as r:
            assert r.status_code == 200
            events = sse(r.iter_lines())
        assert events[-1] == "[DONE]"
        usage = [e for e in events[:-1] if e.get("usage")]
        assert len(usage) == 1 and usage[0]["usage"]["completion_tokens"] == 3
        # without include_usage the client gets no usage chunk, but the gateway still meters it
        with c.stream("POST", "/v1/chat/completions", json={**CHAT, "stream": True}) as r:
            plain = sse(r.iter_lines())
        assert not [e for e in plain[:-1] if e.get("usage")]
        completion = c.post(
            "/v1/completions", json={"model": CHAT_MODEL, "prompt": "One, two,", "max_tokens": 2}
        ).json()
        assert completion["usage"]["completion_tokens"] == 2
        usage_total = c.get("/v1/usage").json()["total"]
    assert usage_total["requests"] >= 4
    # 3 + 3 + 3 generated tokens on chat, 2 on completions (from the upstreams' usage)
    assert usage_total["completion_tokens"] >= 11


def test_upstream_rejection_keeps_its_message_in_our_shape(remote_gateway):
    with remote_gateway.client() as c:
        # the upstream's own 400 (its context is 8192 tokens), with its message and code
        too_long = {**CHAT, "messages": [{"role": "user", "content": "word " * 9000}]}
        r = c.post("/v1/chat/completions", json=too_long)
        assert r.status_code == 400
        assert r.json()["error"]["code"] == "context_length_exceeded"
        assert "Context length exceeded" in r.json()["error"]["message"]
        assert set(r.json()["error"]) >= {"message", "type", "code"}
        # the model is a chat model (the upstream says so): embeddings are refused here
        r = c.post("/v1/embeddings", json={"model": CHAT_MODEL, "input": "hi"})
        assert r.status_code == 400 and r.json()["error"]["code"] == "model_not_supported"
        assert "chat model" in r.json()["error"]["message"]
        # our own validation still runs first, before anything goes upstream
        bad = c.post("/v1/chat/completions", json={**CHAT, "temperature": 5})
        assert bad.status_code == 400 and bad.json()["error"]["param"] == "temperature"
        unknown = c.post("/v1/chat/completions", json={**CHAT, "model": "nope/none"})
        assert unknown.status_code == 404


def test_requests_need_the_gateway_key_not_the_upstream_one(remote_gateway):
    r = httpx.post(
        remote_gateway.url + "/v1/chat/completions",
        json=CHAT,
        headers={"Authorization": "Bearer tf-upstream-test-key"},
    )
    assert r.status_code == 401


def test_json_schema_and_tools_pass_through_in_native_form(remote_gateway):
    schema = {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}
    body = {
        **CHAT,
        "max_tokens": 12,
        "response_format": {"type": "json_schema", "json_schema": {"name": "n", "schema": schema}},
    }
    with remote_gateway.client() as c:
        answer = c.post("/v1/chat/completions", json=body).json()
    content = answer["choices"][0]["message"]["content"]
    if answer["choices"][0]["finish_reason"] == "stop":
        assert isinstance(json.loads(content)["n"], int)
    else:
        assert content.startswith("{")


def test_load_spreads_across_both_replicas(remote_gateway):
    before = upstreams(remote_gateway)
    with remote_gateway.client() as c, ThreadPoolExecutor(4) as pool:
        codes = list(
            pool.map(lambda _: c.post("/v1/chat/completions", json=CHAT).status_code, range(12))
        )
    assert codes == [200] * 12
    after = upstreams(remote_gateway)
    served = {url: after[url]["served"] - before[url]["served"] for url in after}
    print("requests per replica:", served)
    assert sum(served.values()) == 12
    assert min(served.values()) >= 3, served  # least-outstanding keeps both busy


def test_stopping_a_replica_mid_load_loses_no_request_and_it_comes_back(remote_gateway, replicas):
    by_url = {r.url + "/v1": r for r in replicas}
    with remote_gateway.client() as c:
        # a stream in flight on the replica about to stop: it must end with an error event
        long = {**CHAT, "max_tokens": 400, "stream": True}
        stream_cm = c.stream("POST", "/v1/chat/completions", json=long)
        stream = stream_cm.__enter__()
        lines = stream.iter_lines()
        first = next(line for line in lines if line.startswith("data: "))
        assert json.loads(first[6:])["choices"]
        busy = wait_for(
            lambda: [u for u, s in upstreams(remote_gateway).items() if s["outstanding"] == 1],
            10,
            "the streaming request to show on one replica",
        )
        victim = by_url[busy[0]]
        survivor_url = next(u for u in by_url if u != busy[0])

        results: list[int] = []
        started = threading.Event()

        def one(_):
            started.set()
            r = c.post("/v1/chat/completions", json=CHAT)
            return r.status_code, r.text

        with ThreadPoolExecutor(6) as pool:
            futures = [pool.submit(one, i) for i in range(16)]
            started.wait(10)
            time.sleep(1.0)
            victim.stop(signal.SIGKILL)
            outcomes = [f.result() for f in futures]
        results = [code for code, _ in outcomes]
        assert results == [200] * 16, [o for o in outcomes if o[0] != 200]

        rest = sse(lines)
        stream_cm.__exit__(None, None, None)
        errors = [e for e in rest if isinstance(e, dict) and "error" in e]
        assert errors and errors[0]["error"]["code"] == "upstream_stream_broken"
        assert rest[-1] == "[DONE]"

    state = upstreams(remote_gateway)
    assert state[busy[0]]["state"] == "ejected"
    assert state[survivor_url]["state"] == "healthy"
    with remote_gateway.client() as c:
        models = c.get("/v1/models").json()["data"]
        assert models[0]["status"] == "loaded"  # one healthy replica is enough
        metrics = c.get("/metrics").text
    assert f'tokenfactory_upstream_up{{model="{CHAT_MODEL}",url="{busy[0]}"}} 0' in metrics

    warm(victim.start().wait_ready())
    wait_for(lambda: upstreams(remote_gateway)[busy[0]]["state"] == "healthy", 30, "re-admission")
    before = upstreams(remote_gateway)[busy[0]]["served"]
    with remote_gateway.client() as c, ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda _: c.post("/v1/chat/completions", json=CHAT), range(8)))
    assert upstreams(remote_gateway)[busy[0]]["served"] > before  # it takes traffic again
