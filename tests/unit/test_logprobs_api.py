"""logprobs / top_logprobs on chat and completions: shaped like OpenAI's, streamed with their
tokens, and a 400 (never ignored) where the engine cannot give them."""

from __future__ import annotations

import json

import pytest

from tests.fakes import LogprobEngine

CHAT = "/v1/chat/completions"
MSG = [{"role": "user", "content": "hi"}]


@pytest.fixture
def fake_engine():
    return LogprobEngine(replies=["Hi there"])


def sse(response) -> list[dict]:
    lines = [ln[6:] for ln in response.text.splitlines() if ln.startswith("data: ")]
    return [json.loads(ln) for ln in lines if ln != "[DONE]"]


def test_chat_logprobs_one_entry_per_token(api, fake_engine):
    r = api.post(
        CHAT, json={"model": "test/chat", "messages": MSG, "logprobs": True, "top_logprobs": 2}
    )
    assert r.status_code == 200, r.text
    assert fake_engine.requests[-1].logprobs == 2
    content = r.json()["choices"][0]["logprobs"]["content"]
    assert "".join(e["token"] for e in content) == "Hi there"
    assert content[0] == {
        "token": "H",
        "logprob": -0.5,
        "bytes": [72],
        "top_logprobs": [
            {"token": "x", "logprob": -1.0, "bytes": [120]},
            {"token": "y", "logprob": -2.0, "bytes": [121]},
        ],
    }


def test_chat_without_logprobs_asks_for_none(api, fake_engine):
    r = api.post(CHAT, json={"model": "test/chat", "messages": MSG})
    assert r.json()["choices"][0]["logprobs"] is None
    assert fake_engine.requests[-1].logprobs is None
    r = api.post(CHAT, json={"model": "test/chat", "messages": MSG, "logprobs": True})
    assert fake_engine.requests[-1].logprobs == 0
    assert r.json()["choices"][0]["logprobs"]["content"][0]["top_logprobs"] == []


def test_streamed_chat_chunks_carry_their_tokens_logprobs(api):
    body = {"model": "test/chat", "messages": MSG, "logprobs": True, "stream": True}
    with api.stream("POST", CHAT, json=body) as r:
        r.read()
    chunks = sse(r)
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"])
    tokens = [
        e["token"]
        for c in chunks
        if c["choices"] and c["choices"][0].get("logprobs")
        for e in c["choices"][0]["logprobs"]["content"]
    ]
    assert text == "Hi there" and "".join(tokens) == "Hi there"


def test_completion_logprobs_in_the_legacy_shape(api, fake_engine):
    r = api.post(
        "/v1/completions",
        json={"model": "test/chat", "prompt": "Say:", "logprobs": 1},
    )
    assert r.status_code == 200, r.text
    logprobs = r.json()["choices"][0]["logprobs"]
    assert "".join(logprobs["tokens"]) == "Hi there"
    assert logprobs["token_logprobs"] == [-0.5] * 8
    assert logprobs["top_logprobs"][0] == {"x": -1.0}
    assert logprobs["text_offset"][:3] == [0, 1, 2]
    with api.stream(
        "POST",
        "/v1/completions",
        json={"model": "test/chat", "prompt": "Say:", "logprobs": 0, "stream": True},
    ) as s:
        s.read()
    streamed = [
        t
        for c in sse(s)
        if c["choices"] and c["choices"][0].get("logprobs")
        for t in c["choices"][0]["logprobs"]["tokens"]
    ]
    assert "".join(streamed) == "Hi there"


@pytest.mark.parametrize(
    ("path", "body", "param", "code"),
    [
        (CHAT, {"messages": MSG, "top_logprobs": 2}, "top_logprobs", "invalid_parameter"),
        (
            CHAT,
            {"messages": MSG, "logprobs": True, "top_logprobs": 21},
            "top_logprobs",
            "invalid_parameter",
        ),
        ("/v1/completions", {"prompt": "x", "logprobs": 6}, "logprobs", "invalid_parameter"),
    ],
)
def test_bad_logprob_fields_are_400(api, path, body, param, code):
    r = api.post(path, json={"model": "test/chat", **body})
    assert r.status_code == 400
    assert r.json()["error"]["param"] == param and r.json()["error"]["code"] == code


@pytest.mark.parametrize(
    ("path", "body"),
    [
        (CHAT, {"messages": MSG, "logprobs": True}),
        (CHAT, {"messages": MSG, "logprobs": True, "stream": True}),
        ("/v1/completions", {"prompt": "x", "logprobs": 2}),
    ],
)
def test_an_engine_without_logprobs_answers_400_not_silence(api, fake_gateway, path, body):
    fake_gateway.engine.supports_logprobs = False
    r = api.post(path, json={"model": "test/chat", **body})
    assert r.status_code == 400, r.text
    error = r.json()["error"]
    assert error["param"] == "logprobs" and error["code"] == "unsupported_parameter"
    assert error["message"] == "'logprobs' is not supported by the fake engine"
