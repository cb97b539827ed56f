"""/v1/chat/completions with tools and response_format over the fake engine (no model)."""

from __future__ import annotations

import json

import pytest

WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "parameters": {
            "type": "object",
            "properties": {"location": {"type": "string"}},
            "required": ["location"],
        },
    },
}
CALL = '<tool_call>\n{"name": "get_weather", "arguments": {"location": "Paris"}}\n</tool_call>'
MODEL = "test/chat"


def body(**fields):
    return {"model": MODEL, "messages": [{"role": "user", "content": "Weather in Paris?"}]} | fields


def sse(response) -> list[dict]:
    lines = [x[6:] for x in response.text.splitlines() if x.startswith("data: ")]
    return [json.loads(x) for x in lines if x != "[DONE]"]


def test_auto_call_is_parsed(api, fake_engine):
    fake_engine.replies = [CALL]
    r = api.post("/v1/chat/completions", json=body(tools=[WEATHER]))
    assert r.status_code == 200, r.text
    choice = r.json()["choices"][0]
    assert choice["finish_reason"] == "tool_calls"
    assert choice["message"]["content"] is None
    (call,) = choice["message"]["tool_calls"]
    assert call["type"] == "function" and call["id"].startswith("call_")
    assert call["function"]["name"] == "get_weather"
    assert json.loads(call["function"]["arguments"]) == {"location": "Paris"}
    assert fake_engine.requests[-1].structured.ebnf


def test_auto_text_answer_stays_text(api, fake_engine):
    fake_engine.replies = ["It is sunny."]
    r = api.post("/v1/chat/completions", json=body(tools=[WEATHER]))
    choice = r.json()["choices"][0]
    assert choice["finish_reason"] == "stop"
    assert choice["message"]["content"] == "It is sunny."
    assert choice["message"].get("tool_calls") is None


def test_named_choice_sends_the_schema_and_parses_the_bare_call(api, fake_engine):
    fake_engine.replies = ['{"name": "get_weather", "arguments": {"location": "Oslo"}}']
    choice = {"type": "function", "function": {"name": "get_weather"}}
    r = api.post("/v1/chat/completions", json=body(tools=[WEATHER], tool_choice=choice))
    out = r.json()["choices"][0]
    assert out["finish_reason"] == "stop"  # as OpenAI answers a call forced by name
    assert json.loads(out["message"]["tool_calls"][0]["function"]["arguments"]) == {
        "location": "Oslo"
    }
    schema = fake_engine.requests[-1].structured.json_schema
    assert schema["properties"]["name"] == {"const": "get_weather"}


def test_call_cut_by_max_tokens_is_length_not_a_call(api, fake_engine):
    fake_engine.replies = [CALL]
    r = api.post("/v1/chat/completions", json=body(tools=[WEATHER], max_tokens=30))
    out = r.json()["choices"][0]
    assert out["finish_reason"] == "length"
    assert out["message"].get("tool_calls") is None


def test_streamed_call_arrives_as_tool_call_deltas(api, fake_engine):
    fake_engine.replies = [CALL]
    r = api.post("/v1/chat/completions", json=body(tools=[WEATHER], stream=True))
    chunks = sse(r)
    deltas = [c["choices"][0]["delta"] for c in chunks if c["choices"]]
    calls = [tc for d in deltas for tc in d.get("tool_calls") or []]
    assert calls[0]["id"].startswith("call_") and calls[0]["function"]["name"] == "get_weather"
    assert len(calls) > 2  # the arguments come in pieces
    args = "".join(tc["function"].get("arguments") or "" for tc in calls)
    assert json.loads(args) == {"location": "Paris"}
    assert not any(d.get("content") for d in deltas)
    assert chunks[-1]["choices"][0]["finish_reason"] == "tool_calls"


def test_multi_turn_tool_result_is_rendered(api, fake_engine):
    fake_engine.replies = ["It is 22 degrees."]
    messages = [
        {"role": "user", "content": "Weather in Paris?"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"location": "Paris"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": '{"temperature": 22}'},
    ]
    r = api.post("/v1/chat/completions", json={"model": MODEL, "messages": messages})
    assert r.status_code == 200, r.text
    prompt = "".join(chr(i) for i in fake_engine.requests[-1].prompt_token_ids)
    assert '{"name": "get_weather", "arguments": {"location": "Paris"}}' in prompt
    assert '<tool_response>\nget_weather: {"temperature": 22}' in prompt


def test_response_format_reaches_the_engine(api, fake_engine):
    fake_engine.replies = ['{"a": 1}']
    rf = {
        "type": "json_schema",
        "json_schema": {"name": "x", "schema": {"type": "object", "properties": {"a": {}}}},
    }
    r = api.post("/v1/chat/completions", json=body(response_format=rf))
    assert r.json()["choices"][0]["message"]["content"] == '{"a": 1}'
    assert fake_engine.requests[-1].structured.json_schema["properties"] == {"a": {}}


@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize(
    ("fields", "code", "words"),
    [
        (
            {
                "response_format": {
                    "type": "json_schema",
                    "json_schema": {"name": "x", "schema": {"type": "array", "uniqueItems": True}},
                }
            },
            "unsupported_schema",
            "uniqueItems",
        ),
        ({"tool_choice": "required"}, "invalid_request", "tools"),
        (
            {"tools": [WEATHER], "tool_choice": {"type": "function", "function": {"name": "x"}}},
            "invalid_request",
            "'x'",
        ),
    ],
)
def test_bad_requests_are_400_before_streaming(api, fake_engine, fields, code, words, stream):
    r = api.post("/v1/chat/completions", json=body(stream=stream, **fields))
    assert r.status_code == 400
    error = r.json()["error"]
    assert error["code"] == code and words in error["message"]
    assert fake_engine.requests == []
