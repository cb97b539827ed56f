"""Remote models go through the same services as local ones: a gateway whose only model is an
upstream's (a live fake-engine gateway) answers chat, streams and embeddings, runs batch lines
on it, and meters each request once, with the same admission."""

from __future__ import annotations

import json
import time

import pytest

from tests.fakes import LogprobEngine
from tests.unit.test_responses_api import events
from tests.widgets.live import live_gateway


@pytest.fixture
def upstream(tf_home):
    with live_gateway(tf_home / "upstream") as live:
        yield live


@pytest.fixture
def front(upstream, tf_home):
    from fastapi.testclient import TestClient

    from tokenfactory.core import Core
    from tokenfactory.features import install_features
    from tokenfactory.gateway.app import create_app
    from tokenfactory.remote import UpstreamSpec, install
    from tokenfactory.remote.no_engine import NoLocalEngine
    from tokenfactory.store import Store

    core = Core(NoLocalEngine(), Store(tf_home / "front.sqlite3"))
    install_features(core)
    specs = [
        UpstreamSpec(m, upstream.base_url, upstream.api_key) for m in ("test/chat", "test/embed")
    ]
    install(core, specs, health_interval_s=60)
    _, key = core.keys.create_key("default", name="front")
    seen: list = []
    core.usage_observers.append(seen.append)
    with TestClient(create_app(core), headers={"Authorization": f"Bearer {key}"}) as client:
        client.portal.call(core.start_engine)
        client.seen = seen
        client.core = core
        yield client
        client.portal.call(core.shutdown)


CHAT = {"model": "test/chat", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 5}


def test_remote_chat_stream_and_embeddings_are_served_and_metered_once(front):
    r = front.post("/v1/chat/completions", json=CHAT)
    assert r.status_code == 200, r.text
    assert r.json()["model"] == "test/chat" and r.json()["choices"][0]["message"]["content"]
    with front.stream("POST", "/v1/chat/completions", json={**CHAT, "stream": True}) as s:
        events = [line for line in s.iter_lines() if line.startswith("data: ")]
    assert events[-1] == "data: [DONE]" and len(events) > 2
    r = front.post("/v1/embeddings", json={"model": "test/embed", "input": ["a", "b"]})
    assert r.status_code == 200 and len(r.json()["data"]) == 2
    assert [(u.endpoint, u.status) for u in front.seen] == [
        ("/v1/chat/completions", 200),
        ("/v1/chat/completions", 200),
        ("/v1/embeddings", 200),
    ]
    assert all(u.prompt_tokens > 0 for u in front.seen)


def test_a_batch_line_on_a_remote_model_runs_through_the_same_service(front):
    rows = [{"custom_id": "r", "body": CHAT}]
    data = "".join(json.dumps(r) + "\n" for r in rows).encode()
    r = front.post("/v1/batch", files={"file": ("b.jsonl", data)}, data={"sla": "1h"})
    assert r.status_code == 200, r.text
    batch_id = r.json()["id"]
    deadline = time.monotonic() + 30
    while front.get(f"/v1/batch/{batch_id}").json()["status"] != "completed":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    (line,) = [json.loads(x) for x in front.get(f"/v1/batch/{batch_id}/results").text.splitlines()]
    assert line["response"]["status_code"] == 200
    assert line["response"]["body"]["choices"][0]["message"]["content"]
    assert [(u.tier, u.request_id) for u in front.seen] == [
        ("batch_1h", line["response"]["request_id"])
    ]


def test_remote_models_get_the_openai_fields_and_the_same_refusals(front, upstream):
    """An upstream gets ``n``, ``logit_bias`` and vLLM's extensions as the client sent them;
    what the wire refuses is refused before anything goes upstream, as for a local model."""
    body = {**CHAT, "n": 2, "logit_bias": {"65": -100}, "top_k": 3, "ignore_eos": True}
    r = front.post("/v1/chat/completions", json=body)
    assert r.status_code == 200, r.text
    assert [c["index"] for c in r.json()["choices"]] == [0, 1]
    sampling = upstream.engine.requests[-1].sampling
    assert (sampling.logit_bias, sampling.top_k, sampling.ignore_eos) == (((65, -100.0),), 3, True)
    sent = len(upstream.engine.requests)
    for extra, param in (({"n": 17}, "n"), ({"audio": {"voice": "x"}}, "audio")):
        r = front.post("/v1/chat/completions", json={**CHAT, **extra})
        assert r.status_code == 400 and r.json()["error"]["param"] == param
    assert len(upstream.engine.requests) == sent


def test_echo_scoring_on_a_remote_model_goes_up_as_sent(front, upstream):
    """``echo`` with ``max_tokens: 0`` (and ``logprobs``) reaches the upstream unchanged: it
    answers with the prompt and its logprobs, nothing generated."""
    from tests.fakes import LogprobEngine

    body = {"model": "test/chat", "prompt": "hi", "echo": True, "max_tokens": 0}
    r = front.post("/v1/completions", json=body)
    assert r.status_code == 200, r.text
    assert r.json()["choices"][0]["text"] == "hi"
    assert r.json()["usage"] == {"prompt_tokens": 2, "completion_tokens": 0, "total_tokens": 2}
    assert upstream.engine.requests == []
    upstream.engine.__class__ = LogprobEngine  # the upstream's engine now gives logprobs
    r = front.post("/v1/completions", json={**body, "logprobs": 1})
    assert r.status_code == 200, r.text
    logprobs = r.json()["choices"][0]["logprobs"]
    assert logprobs["tokens"] == ["h", "i"] and logprobs["token_logprobs"][0] is None
    assert upstream.engine.requests[-1].prompt_logprobs == 1


def test_responses_on_a_remote_model_go_up_as_chat_and_come_back_as_responses(front, upstream):
    body = {"model": "test/chat", "input": "hi", "instructions": "Be brief."}
    r = front.post("/v1/responses", json={**body, "max_output_tokens": 5})
    assert r.status_code == 200, r.text
    answer = r.json()
    assert answer["object"] == "response" and answer["output"][0]["content"][0]["text"]
    assert answer["usage"]["output_tokens"] == upstream.engine.requests[-1].sampling.max_tokens
    assert front.get(f"/v1/responses/{answer['id']}").json()["output"] == answer["output"]
    with front.stream("POST", "/v1/responses", json={**body, "stream": True}) as s:
        names = [line[7:] for line in s.iter_lines() if line.startswith("event: ")]
    assert names[0] == "response.created" and names[-1] == "response.completed"
    assert "response.output_text.delta" in names
    assert [(u.endpoint, u.status) for u in front.seen] == [("/v1/responses", 200)] * 2
    assert all(u.completion_tokens > 0 for u in front.seen)


def test_chinese_and_emoji_on_a_remote_model_cannot_overdraw_a_small_wallet(front, upstream):
    """No tokenizer here for a remote model: admission holds a bound the upstream's count cannot
    pass. The upstream counts one token per UTF-8 byte (the most a byte-level BPE counts), which
    a count of characters (``// 3``) undercounts for Chinese text and emoji."""
    from tests.fakes import FakeTokenizer

    class ByteTokenizer(FakeTokenizer):
        def encode(self, text: str, add_special_tokens: bool = False) -> list[int]:
            return list(text.encode())

    upstream.engine._tokenizer = ByteTokenizer()
    keys = front.core.keys
    keys.set_balance("default", 500)  # $0.0005: four of these requests, not five
    body = {**CHAT, "messages": [{"role": "user", "content": "数据😀" * 100}]}
    for _ in range(10):
        r = front.post("/v1/chat/completions", json=body)
        if r.status_code == 402:
            break
        assert r.status_code == 200, r.text
        assert r.json()["usage"]["prompt_tokens"] > 1000  # 1,000 bytes of text
    assert r.status_code == 402 and r.json()["error"]["type"] == "insufficient_balance"
    assert keys.workspace("default").balance_micros >= 0
    # unasked, the output limit the wallet held for is the one sent upstream
    del body["max_tokens"]
    keys.set_balance("default", None)
    assert front.post("/v1/chat/completions", json=body).status_code == 200
    assert upstream.engine.requests[-1].sampling.max_tokens == 1024


def test_responses_logprobs_come_from_the_upstream_as_chat_logprobs_do(front, upstream):
    """``include`` goes up as chat's ``logprobs``; an upstream that cannot give them answers
    the 400 it answers chat's (here the upstream is a gateway: param ``logprobs``)."""
    body = {"model": "test/chat", "input": "hi", "include": ["message.output_text.logprobs"]}
    refused = front.post("/v1/responses", json=body)
    chat = front.post("/v1/chat/completions", json={**CHAT, "logprobs": True})
    assert refused.status_code == chat.status_code == 400
    assert refused.json()["error"]["code"] == chat.json()["error"]["code"]

    upstream.engine.__class__ = LogprobEngine  # the same fake engine, now giving logprobs
    r = front.post("/v1/responses", json={**body, "top_logprobs": 1})
    assert r.status_code == 200, r.text
    part = r.json()["output"][0]["content"][0]
    assert "".join(lp["token"] for lp in part["logprobs"]) == part["text"]
    assert upstream.engine.requests[-1].logprobs == 1
    with front.stream("POST", "/v1/responses", json={**body, "stream": True}) as s:
        s.read()
    deltas = [d for name, d in events(s) if name == "response.output_text.delta"]
    assert "".join(lp["token"] for d in deltas for lp in d["logprobs"]) == part["text"]
