"""/v1/responses over the fake engine (no model): translation to chat and back, the store,
chaining, workspaces, typed stream events, metering and the 400s."""

from __future__ import annotations

import asyncio
import json

import pytest
from fastapi.testclient import TestClient

from tests.fakes import FakeTokenizer

MODEL = "test/chat"
WEATHER = {
    "type": "function",
    "name": "get_weather",
    "parameters": {
        "type": "object",
        "properties": {"location": {"type": "string"}},
        "required": ["location"],
    },
}
CALL = '<tool_call>\n{"name": "get_weather", "arguments": {"location": "Paris"}}\n</tool_call>'


def prompt_of(fake_engine) -> str:
    return FakeTokenizer().decode(fake_engine.requests[-1].prompt_token_ids)


def events(response) -> list[tuple[str, dict]]:
    """(event name, data) of each server-sent event."""
    out = []
    for block in response.text.strip().split("\n\n"):
        name, data = block.split("\n")
        out.append((name.removeprefix("event: "), json.loads(data.removeprefix("data: "))))
    return out


def test_create_answers_a_stored_response_in_the_responses_shape(api, fake_engine):
    fake_engine.replies = ["Bonjour."]
    r = api.post(
        "/v1/responses",
        json={
            "model": MODEL,
            "input": "Say hello",
            "instructions": "Answer in French.",
            "max_output_tokens": 32,
            "metadata": {"run": "7"},
            "service_tier": "default",
            "truncation": "disabled",
        },
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["object"] == "response" and body["id"].startswith("resp_")
    assert body["status"] == "completed" and body["model"] == MODEL
    (message,) = body["output"]
    assert message["type"] == "message" and message["role"] == "assistant"
    assert message["content"] == [{"type": "output_text", "text": "Bonjour.", "annotations": []}]
    usage = body["usage"]
    assert usage["output_tokens"] == len("Bonjour.")
    assert usage["input_tokens"] == len(fake_engine.requests[-1].prompt_token_ids)
    assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"]
    assert body["metadata"] == {"run": "7"} and body["instructions"] == "Answer in French."
    assert body["service_tier"] == "default" and body["truncation"] == "disabled"
    assert prompt_of(fake_engine) == "<system>Answer in French.\n<user>Say hello\n<assistant>"
    assert fake_engine.requests[-1].sampling.max_tokens == 32

    again = api.get(f"/v1/responses/{body['id']}")
    assert again.status_code == 200 and again.json() == body
    items = api.get(f"/v1/responses/{body['id']}/input_items").json()
    (item,) = items["data"]
    assert item["role"] == "user"
    assert item["content"] == [{"type": "input_text", "text": "Say hello"}]
    assert items["first_id"] == items["last_id"] == item["id"] and items["has_more"] is False


def test_token_limit_makes_an_incomplete_response(api, fake_engine):
    fake_engine.replies = ["A long answer that will not fit."]
    body = api.post(
        "/v1/responses", json={"model": MODEL, "input": "x", "max_output_tokens": 4}
    ).json()
    assert body["status"] == "incomplete"
    assert body["incomplete_details"] == {"reason": "max_output_tokens"}
    assert body["output"][0]["content"][0]["text"] == "A lo"


def test_delete_and_store_false_leave_nothing(api, fake_gateway):
    rid = api.post("/v1/responses", json={"model": MODEL, "input": "hi"}).json()["id"]
    assert api.delete(f"/v1/responses/{rid}").json() == {
        "id": rid,
        "object": "response",
        "deleted": True,
    }
    for path in (f"/v1/responses/{rid}", f"/v1/responses/{rid}/input_items"):
        r = api.get(path)
        assert r.status_code == 404 and r.json()["error"]["code"] == "response_not_found"
    assert api.delete(f"/v1/responses/{rid}").status_code == 404

    kept = api.post("/v1/responses", json={"model": MODEL, "input": "hi", "store": False}).json()
    assert kept["store"] is False and kept["output"]
    assert api.get(f"/v1/responses/{kept['id']}").status_code == 404
    assert fake_gateway.store.all("SELECT id FROM responses") == []
    assert fake_gateway.store.all("SELECT id FROM response_input_items") == []


def test_previous_response_id_chains_the_conversation(api, fake_engine):
    fake_engine.replies = ["Paris.", "About 2 million."]
    first = api.post(
        "/v1/responses",
        json={"model": MODEL, "input": "Capital of France?", "instructions": "Be brief."},
    ).json()
    second = api.post(
        "/v1/responses",
        json={"model": MODEL, "input": "Its population?", "previous_response_id": first["id"]},
    ).json()
    assert second["previous_response_id"] == first["id"]
    # instructions are not carried over; the earlier turn and its answer are
    assert prompt_of(fake_engine) == (
        "<user>Capital of France?\n<assistant>Paris.\n<user>Its population?\n<assistant>"
    )
    # a chain survives deleting the response it started from
    api.delete(f"/v1/responses/{first['id']}")
    third = api.post(
        "/v1/responses",
        json={"model": MODEL, "input": "And Lyon?", "previous_response_id": second["id"]},
    )
    assert third.status_code == 200
    assert prompt_of(fake_engine).startswith("<user>Capital of France?\n<assistant>Paris.\n")
    missing = api.post(
        "/v1/responses",
        json={"model": MODEL, "input": "x", "previous_response_id": first["id"]},
    )
    assert missing.status_code == 400
    assert missing.json()["error"]["param"] == "previous_response_id"


def test_another_workspace_sees_nothing(api, fake_gateway):
    rid = api.post("/v1/responses", json={"model": MODEL, "input": "secret"}).json()["id"]
    fake_gateway.keys.create_workspace("other")
    _, key = fake_gateway.keys.create_key("other", name="other")
    other = {"Authorization": f"Bearer {key}"}
    for method, path in (
        ("GET", f"/v1/responses/{rid}"),
        ("GET", f"/v1/responses/{rid}/input_items"),
        ("DELETE", f"/v1/responses/{rid}"),
    ):
        r = api.request(method, path, headers=other)
        assert r.status_code == 404, (method, path)
    chained = api.post(
        "/v1/responses",
        json={"model": MODEL, "input": "x", "previous_response_id": rid},
        headers=other,
    )
    assert chained.status_code == 400
    assert api.get(f"/v1/responses/{rid}").status_code == 200


def test_input_items_are_paginated(api):
    items = [{"role": "user", "content": f"turn {n}"} for n in range(5)]
    rid = api.post("/v1/responses", json={"model": MODEL, "input": items}).json()["id"]
    url = f"/v1/responses/{rid}/input_items"
    page = api.get(url, params={"limit": 2}).json()
    assert [i["content"][0]["text"] for i in page["data"]] == ["turn 4", "turn 3"]
    assert page["has_more"] is True
    rest = api.get(url, params={"limit": 10, "after": page["last_id"]}).json()
    assert [i["content"][0]["text"] for i in rest["data"]] == ["turn 2", "turn 1", "turn 0"]
    assert rest["has_more"] is False
    ascending = api.get(url, params={"order": "asc", "limit": 1}).json()
    assert ascending["data"][0]["content"][0]["text"] == "turn 0"
    assert api.get(url, params={"limit": 0}).status_code == 400


def test_function_call_round_trip(api, fake_engine):
    fake_engine.replies = [CALL, "It is sunny in Paris."]
    first = api.post(
        "/v1/responses",
        json={"model": MODEL, "input": "Weather in Paris?", "tools": [WEATHER]},
    ).json()
    (call,) = first["output"]
    assert call["type"] == "function_call" and call["name"] == "get_weather"
    assert json.loads(call["arguments"]) == {"location": "Paris"}
    assert call["id"].startswith("fc_") and call["call_id"]
    assert first["tools"][0]["name"] == "get_weather"
    second = api.post(
        "/v1/responses",
        json={
            "model": MODEL,
            "previous_response_id": first["id"],
            "tools": [WEATHER],
            "input": [
                {"type": "function_call_output", "call_id": call["call_id"], "output": "sunny"}
            ],
        },
    ).json()
    assert second["output"][0]["content"][0]["text"] == "It is sunny in Paris."
    # the tool call and its output reached the model
    assert "sunny" in prompt_of(fake_engine) and "get_weather" in prompt_of(fake_engine)
    items = api.get(f"/v1/responses/{second['id']}/input_items").json()["data"]
    assert [(i["type"], i["call_id"]) for i in items] == [("function_call_output", call["call_id"])]


def test_named_tool_choice_and_structured_formats_reach_the_engine(api, fake_engine):
    fake_engine.replies = ['{"name": "get_weather", "arguments": {"location": "Oslo"}}']
    r = api.post(
        "/v1/responses",
        json={
            "model": MODEL,
            "input": "Weather?",
            "tools": [WEATHER],
            "tool_choice": {"type": "function", "name": "get_weather"},
        },
    ).json()
    assert r["output"][0]["type"] == "function_call"
    assert r["tool_choice"] == {"type": "function", "name": "get_weather"}
    assert fake_engine.requests[-1].structured is not None

    fake_engine.replies = ['{"city": "Oslo"}']
    schema = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
    fmt = {"type": "json_schema", "name": "place", "schema": schema, "strict": True}
    r = api.post(
        "/v1/responses", json={"model": MODEL, "input": "Where?", "text": {"format": fmt}}
    ).json()
    assert json.loads(r["output"][0]["content"][0]["text"]) == {"city": "Oslo"}
    assert r["text"]["format"]["name"] == "place"
    assert fake_engine.requests[-1].structured.json_schema == schema

    fake_engine.replies = ["{}"]
    api.post(
        "/v1/responses",
        json={"model": MODEL, "input": "JSON please", "text": {"format": {"type": "json_object"}}},
    )
    assert fake_engine.requests[-1].structured is not None


def test_stream_sends_the_typed_events_in_order(api, fake_engine):
    fake_engine.replies = ["Hi!"]
    body = {"model": MODEL, "input": "x", "stream": True}
    with api.stream("POST", "/v1/responses", json=body) as r:
        r.read()
    assert r.headers["content-type"].startswith("text/event-stream")
    seen = events(r)
    assert [d["sequence_number"] for _, d in seen] == list(range(len(seen)))
    assert all(name == d["type"] for name, d in seen)
    assert [name for name, _ in seen] == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
        "response.output_text.delta",
        "response.output_text.delta",
        "response.output_text.delta",
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.completed",
    ]
    assert "".join(d["delta"] for n, d in seen if n == "response.output_text.delta") == "Hi!"
    final = seen[-1][1]["response"]
    assert final["status"] == "completed" and final["usage"]["output_tokens"] == 3
    assert api.get(f"/v1/responses/{final['id']}").json()["output"] == final["output"]


def test_stream_of_a_function_call(api, fake_engine):
    fake_engine.replies = [CALL]
    body = {"model": MODEL, "input": "Weather?", "tools": [WEATHER], "stream": True}
    with api.stream("POST", "/v1/responses", json=body) as r:
        r.read()
    seen = events(r)
    names = [n for n, _ in seen]
    assert names[2] == "response.output_item.added"
    assert seen[2][1]["item"]["type"] == "function_call"
    deltas = "".join(d["delta"] for n, d in seen if n == "response.function_call_arguments.delta")
    (done,) = [d for n, d in seen if n == "response.function_call_arguments.done"]
    assert json.loads(deltas) == json.loads(done["arguments"]) == {"location": "Paris"}
    assert done["name"] == "get_weather"
    assert names[-2:] == ["response.output_item.done", "response.completed"]
    assert seen[-1][1]["response"]["output"][0]["call_id"] == seen[2][1]["item"]["call_id"]


def test_metered_under_its_endpoint(api, fake_gateway):
    api.post("/v1/responses", json={"model": MODEL, "input": "hi"})
    api.post("/v1/responses", json={"model": "no/such-model", "input": "hi"})
    rows = fake_gateway.store.all(
        "SELECT endpoint, model, status, completion_tokens, tier FROM usage_records ORDER BY id"
    )
    assert [(r["endpoint"], r["model"], r["status"], r["tier"]) for r in rows] == [
        ("/v1/responses", MODEL, 200, "realtime"),
        ("/v1/responses", "no/such-model", 404, "realtime"),
    ]
    assert rows[0]["completion_tokens"] > 0


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"input": "x"}, "model"),
        ({"model": MODEL}, "input"),
        ({"model": MODEL, "input": []}, "input"),
        (
            {
                "model": MODEL,
                "input": [
                    {
                        "role": "user",
                        "content": [{"type": "input_image", "image_url": "http://x/y.png"}],
                    }
                ],
            },
            "input[0].content",
        ),
        ({"model": MODEL, "input": [{"type": "reasoning", "summary": []}]}, "input[0]"),
        ({"model": MODEL, "input": "x", "tools": [{"type": "web_search"}]}, "tools[0].type"),
        ({"model": MODEL, "input": "x", "background": True}, "background"),
        ({"model": MODEL, "input": "x", "reasoning": {"effort": "high"}}, "reasoning"),
        ({"model": MODEL, "input": "x", "truncation": "auto"}, "truncation"),
        ({"model": MODEL, "input": "x", "top_logprobs": 21}, "top_logprobs"),
        ({"model": MODEL, "input": "x", "include": ["file_search_call.results"]}, "include"),
        ({"model": MODEL, "input": "x", "max_output_tokens": 0}, "max_output_tokens"),
        ({"model": MODEL, "input": "x", "top_p": 0}, "top_p"),
        ({"model": MODEL, "input": "x", "text": {"format": {"type": "xml"}}}, "text.format"),
        (
            {
                "model": MODEL,
                "input": [{"type": "function_call_output", "call_id": "nope", "output": "1"}],
            },
            "input",
        ),
        (
            {"model": "test/embed", "input": "x"},
            "model",
        ),
    ],
)
def test_bad_requests_are_400s_naming_the_field(api, body, param):
    r = api.post("/v1/responses", json=body)
    assert r.status_code == 400, r.text
    error = r.json()["error"]
    assert error["param"].startswith(param), error
    assert error["message"]


def test_a_key_is_needed(fake_gateway):
    from tokenfactory.gateway.app import create_app

    with TestClient(create_app(fake_gateway)) as client:
        assert client.post("/v1/responses", json={"model": MODEL, "input": "x"}).status_code == 401


def test_batch_lines_run_through_the_responses_service(api, fake_engine, fake_gateway):
    from tests.unit.test_batch_api import results, submit, wait_for

    fake_engine.replies = ["Batch answer."]
    line = {"custom_id": "r1", "method": "POST", "url": "/v1/responses"}
    rows = [
        {**line, "body": {"model": MODEL, "input": "hi", "instructions": "Be brief."}},
        {**line, "custom_id": "r2", "body": {"model": MODEL, "input": "x", "store": False}},
    ]
    created = submit(api, rows, sla="1h").json()
    assert wait_for(api, created["id"])["status"] == "completed"
    out = {r["custom_id"]: r["response"] for r in results(api, created["id"])}
    body = out["r1"]["body"]
    assert out["r1"]["status_code"] == 200 and body["object"] == "response"
    assert body["output"][0]["content"][0]["text"] == "Batch answer."
    assert body["usage"]["output_tokens"] == len("Batch answer.")
    assert api.get(f"/v1/responses/{body['id']}").json()["output"] == body["output"]
    assert api.get(f"/v1/responses/{out['r2']['body']['id']}").status_code == 404
    prompts = {FakeTokenizer().decode(r.prompt_token_ids) for r in fake_engine.requests}
    assert "<system>Be brief.\n<user>hi\n<assistant>" in prompts
    tiers = fake_gateway.store.all("SELECT endpoint, tier FROM usage_records")
    assert {(r["endpoint"], r["tier"]) for r in tiers} == {("/v1/responses", "batch_1h")}

    bad = [{**line, "body": {"model": MODEL, "input": "x", "stream": True}}]
    r = submit(api, bad)
    assert r.status_code == 400 and "line 1" in r.json()["error"]["message"]


def test_rate_limited_and_priced_like_chat(api, fake_gateway):
    from tests.unit.test_ratelimit import Clock, free_key
    from tokenfactory.ratelimit import RateLimiter

    fake_gateway.installed[RateLimiter].clock = Clock()
    auth = {"Authorization": f"Bearer {free_key(fake_gateway)}"}  # 20 requests a minute
    chat = {"model": MODEL, "messages": [{"role": "user", "content": "hi"}], "max_tokens": 5}
    answer = {"model": MODEL, "input": "hi", "max_output_tokens": 5}
    for _ in range(10):
        assert api.post("/v1/chat/completions", json=chat, headers=auth).status_code == 200
        r = api.post("/v1/responses", json=answer, headers=auth)
        assert r.status_code == 200 and r.headers["x-ratelimit-limit"] == "20"
    refused = api.post("/v1/responses", json=answer, headers=auth)
    assert refused.status_code == 429 and refused.headers["retry-after"]
    assert refused.json()["error"]["code"] == "rate_limit_exceeded"
    rows = fake_gateway.store.all(
        "SELECT endpoint, prompt_tokens + completion_tokens AS tokens, cost_pico "
        "FROM usage_records WHERE status = 200"
    )
    per_token = {(r["endpoint"], r["cost_pico"] / r["tokens"]) for r in rows}
    assert {e for e, _ in per_token} == {"/v1/chat/completions", "/v1/responses"}
    assert len({cost for _, cost in per_token}) == 1 and next(iter(per_token))[1] > 0


async def test_closing_a_stream_aborts_the_generation_and_meters_what_ran(
    fake_gateway, fake_engine
):
    from tokenfactory.core import Call
    from tokenfactory.core.endpoints import RESPONSES
    from tokenfactory.wire.responses import ResponseCreateRequest

    fake_engine.replies = ["x" * 400]
    fake_engine.delay = 0.001
    await fake_gateway.start_engine()
    principal = fake_gateway.keys.authenticate(fake_gateway.test_key)
    request = ResponseCreateRequest(model=MODEL, input="hi", stream=True)
    run = await fake_gateway.service(RESPONSES).start(request, Call(principal, RESPONSES.path))
    events = run.stream()
    kinds = [(await anext(events)).type for _ in range(6)]
    assert kinds[-1] == "response.output_text.delta"
    await events.aclose()
    for _ in range(100):  # the engine's stream is closed by the loop, a tick later
        if fake_engine.running == 0:
            break
        await asyncio.sleep(0.01)
    assert fake_engine.requests[-1].request_id in fake_engine.aborted
    (row,) = fake_gateway.store.all("SELECT status, completion_tokens FROM usage_records")
    assert row["status"] == 499 and 0 < row["completion_tokens"] < 400
    assert fake_gateway.store.all("SELECT id FROM responses") == []


async def test_an_error_after_the_stream_started_is_an_error_event():
    from tokenfactory.errors import InvalidRequestError
    from tokenfactory.gateway.sse import typed_sse_events
    from tokenfactory.wire.responses import ResponseStreamEvent

    async def failing():
        yield ResponseStreamEvent(type="response.created", sequence_number=0)
        raise InvalidRequestError("the schema cannot be enforced", param="text.format")

    out = [chunk async for chunk in typed_sse_events(failing())]
    assert out[0].startswith(b"event: response.created\ndata: ")
    name, data = out[1].decode().strip().split("\n")
    event = json.loads(data.removeprefix("data: "))
    assert name == "event: error" and event["type"] == "error"
    assert event["sequence_number"] == 1 and event["param"] == "text.format"
    # what OpenAI's client reads to raise an APIError
    assert event["error"]["message"] == "the schema cannot be enforced"
