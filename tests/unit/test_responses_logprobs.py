"""Logprobs on /v1/responses over the fake engine: ``include: ["message.output_text.logprobs"]``
and ``top_logprobs`` give each output text its tokens' logprobs (parsed here by the official
``openai`` client into its own types), streamed with each delta; without the include there are
none; a bad ``top_logprobs`` or ``include`` and an engine without logprobs are 400s."""

from __future__ import annotations

import pytest
from openai import OpenAI
from openai.types.responses import (
    Response,
    ResponseOutputText,
    ResponseTextDeltaEvent,
    ResponseTextDoneEvent,
)
from openai.types.responses.response_output_text import Logprob

from tests.fakes import LogprobEngine
from tests.unit.test_responses_api import events

MODEL = "test/chat"
INCLUDE = ["message.output_text.logprobs"]


@pytest.fixture
def fake_engine():
    return LogprobEngine(replies=["Hi there"])


@pytest.fixture
def client(api, fake_gateway) -> OpenAI:
    return OpenAI(base_url="http://testserver/v1", api_key=fake_gateway.test_key, http_client=api)


def test_output_text_carries_one_logprob_per_token(client, fake_engine):
    r = client.responses.create(model=MODEL, input="hi", include=INCLUDE, top_logprobs=2)
    assert fake_engine.requests[-1].logprobs == 2
    assert r.top_logprobs == 2
    (part,) = r.output[0].content
    assert isinstance(part, ResponseOutputText) and part.text == "Hi there"
    assert all(isinstance(lp, Logprob) for lp in part.logprobs)
    assert "".join(lp.token for lp in part.logprobs) == part.text
    first = part.logprobs[0]
    assert (first.token, first.logprob, first.bytes) == ("H", -0.5, [72])
    assert [(t.token, t.logprob, t.bytes) for t in first.top_logprobs] == [
        ("x", -1.0, [120]),
        ("y", -2.0, [121]),
    ]
    # the store keeps the response as answered, logprobs included
    assert client.responses.retrieve(r.id).output[0].content[0].logprobs == part.logprobs


def test_without_the_include_there_are_no_logprobs(api, fake_engine):
    for extra in ({}, {"top_logprobs": 3}, {"include": []}):
        r = api.post("/v1/responses", json={"model": MODEL, "input": "hi", **extra})
        assert r.status_code == 200, r.text
        assert fake_engine.requests[-1].logprobs is None
        (part,) = r.json()["output"][0]["content"]
        assert "logprobs" not in part
    r = api.post("/v1/responses", json={"model": MODEL, "input": "hi", "include": INCLUDE})
    (entry, *_) = r.json()["output"][0]["content"][0]["logprobs"]
    assert fake_engine.requests[-1].logprobs == 0 and entry["top_logprobs"] == []
    Response.model_validate(r.json(), strict=True)  # every field openai's own type requires


def test_each_streamed_delta_carries_its_tokens_logprobs(api):
    body = {"model": MODEL, "input": "hi", "include": INCLUDE, "top_logprobs": 1, "stream": True}
    with api.stream("POST", "/v1/responses", json=body) as r:
        r.read()
    sent = events(r)
    deltas = [
        ResponseTextDeltaEvent.model_validate(data)
        for name, data in sent
        if name == "response.output_text.delta"
    ]
    assert deltas
    for delta in deltas:
        assert "".join(lp.token for lp in delta.logprobs) == delta.delta
        assert all(len(lp.top_logprobs) == 1 for lp in delta.logprobs)
    (done,) = [
        ResponseTextDoneEvent.model_validate(data)
        for name, data in sent
        if name == "response.output_text.done"
    ]
    streamed = [lp for d in deltas for lp in d.logprobs]
    assert [lp.token for lp in done.logprobs] == [lp.token for lp in streamed]
    final = ResponseOutputText.model_validate(sent[-1][1]["response"]["output"][0]["content"][0])
    assert final.text == "Hi there"
    logprobs = final.logprobs
    assert [(lp.token, lp.logprob) for lp in logprobs] == [
        (lp.token, lp.logprob) for lp in streamed
    ]


def test_a_stream_without_the_include_has_empty_logprobs(api):
    with api.stream(
        "POST", "/v1/responses", json={"model": MODEL, "input": "hi", "stream": True}
    ) as r:
        r.read()
    sent = events(r)
    assert all(d["logprobs"] == [] for n, d in sent if n == "response.output_text.delta")
    assert "logprobs" not in sent[-1][1]["response"]["output"][0]["content"][0]


@pytest.mark.parametrize(
    ("extra", "param"),
    [
        ({"include": INCLUDE, "top_logprobs": 21}, "top_logprobs"),
        ({"include": INCLUDE, "top_logprobs": -1}, "top_logprobs"),
        ({"top_logprobs": "3"}, "top_logprobs"),
        ({"include": ["reasoning.encrypted_content"]}, "include"),
        ({"include": "message.output_text.logprobs"}, "include"),
    ],
)
def test_bad_logprob_fields_are_400s_naming_them(api, fake_engine, extra, param):
    r = api.post("/v1/responses", json={"model": MODEL, "input": "hi", **extra})
    assert r.status_code == 400, r.text
    error = r.json()["error"]
    assert error["param"] == param and error["message"] and error["type"] and error["code"]
    assert fake_engine.requests == []


@pytest.mark.parametrize("stream", [False, True])
def test_an_engine_without_logprobs_refuses_them_as_chat_does(api, fake_gateway, stream):
    fake_gateway.engine.supports_logprobs = False
    body = {"model": MODEL, "input": "hi", "include": INCLUDE, "stream": stream}
    r = api.post("/v1/responses", json=body)
    assert r.status_code == 400, r.text
    error = r.json()["error"]
    assert error["param"] == "include" and error["code"] == "unsupported_parameter"
    assert error["message"] == "'logprobs' is not supported by the fake engine"


def test_a_function_calls_tokens_are_left_out_of_the_text(api, fake_engine):
    from tests.unit.test_responses_api import CALL, WEATHER

    body = {"model": MODEL, "input": "hi", "include": INCLUDE, "tools": [WEATHER]}
    for stream in (False, True):
        fake_engine.replies = ["Let me look.\n" + CALL]
        with api.stream("POST", "/v1/responses", json={**body, "stream": stream}) as r:
            r.read()
        answer = events(r)[-1][1]["response"] if stream else r.json()
        message, call = answer["output"]
        assert call["type"] == "function_call"
        (part,) = message["content"]
        assert part["text"].strip() == "Let me look."
        assert "".join(lp["token"] for lp in part["logprobs"]).strip() == part["text"].strip()
