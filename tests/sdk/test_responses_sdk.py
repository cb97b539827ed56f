"""``client.responses`` against the real gateway app over the fake engine: create (JSON and
typed events), retrieve, input_items, delete, logprobs; the async twin; and its arguments
match the wire's request model."""

from __future__ import annotations

import httpx
import pytest

import tokenfactory.sdk as sdk
from tests.fakes import LogprobEngine
from tests.sdk.test_params_match_wire import sdk_fields
from tokenfactory.sdk.resources._params import ResponseParams
from tokenfactory.sdk.resources.responses import (
    AsyncResponses,
    OutputTextDeltaEvent,
    ResponseLogprob,
    Responses,
)
from tokenfactory.sdk.types import Response
from tokenfactory.wire.responses import UNSUPPORTED, ResponseCreateRequest

REPLY = "Hello from the fake engine."
INCLUDE: list = ["message.output_text.logprobs"]


@pytest.fixture
def fake_engine():
    return LogprobEngine(replies=[REPLY])  # the fake engine, able to give logprobs


@pytest.fixture
def client(api, fake_gateway):
    return sdk.TokenFactory(
        base_url="http://testserver/v1", api_key=fake_gateway.test_key, http_client=api
    )


def test_create_retrieve_items_delete(client):
    r = client.responses.create(
        model="test/chat", input="hi", instructions="Be nice.", max_output_tokens=50
    )
    assert isinstance(r, Response) and r.output_text == REPLY
    assert r.usage is not None and r.usage.output_tokens == len(REPLY)
    assert r.request_id and "test/chat" in r._repr_markdown_()
    assert client.responses.retrieve(r.id).output_text == REPLY
    items = client.responses.input_items(r.id, limit=5)
    assert [i.type for i in items.data] == ["message"] and not items.has_more
    assert client.responses.delete(r.id).deleted is True
    with pytest.raises(sdk.NotFoundError):
        client.responses.retrieve(r.id)
    with pytest.raises(sdk.BadRequestError):
        client.responses.create(model="test/chat", input=[])


def test_stream_of_typed_events(client):
    with client.responses.create(
        model="test/chat", input="hi", stream=True, max_output_tokens=5
    ) as stream:
        events = list(stream)
    assert events[0].type == "response.created"
    text = "".join(e.delta for e in events if e.type == "response.output_text.delta")
    assert text == REPLY[:5]
    assert events[-1].type == "response.incomplete"
    assert [e.sequence_number for e in events] == list(range(len(events)))


def test_logprobs_are_typed(client):
    r = client.responses.create(model="test/chat", input="hi", include=INCLUDE, top_logprobs=1)
    logprobs = r.output[0].content[0].logprobs
    assert all(isinstance(lp, ResponseLogprob) for lp in logprobs)
    assert "".join(lp.token for lp in logprobs) == REPLY
    assert logprobs[0].top_logprobs[0].token == "x"
    assert (
        client.responses.create(model="test/chat", input="hi").output[0].content[0].logprobs is None
    )


async def test_async_client(fake_gateway):
    from tokenfactory.gateway.app import create_app

    await fake_gateway.start_engine()
    transport = httpx.ASGITransport(app=create_app(fake_gateway))
    async with sdk.AsyncTokenFactory(
        base_url="http://testserver/v1",
        api_key=fake_gateway.test_key,
        http_client=httpx.AsyncClient(transport=transport),
    ) as client:
        first = await client.responses.create(model="test/chat", input="hi")
        second = await client.responses.create(
            model="test/chat", input="again", previous_response_id=first.id
        )
        assert second.previous_response_id == first.id
        assert (await client.responses.retrieve(second.id)).output_text == REPLY
        stream = await client.responses.create(
            model="test/chat", input="x", stream=True, include=INCLUDE
        )
        events = [event async for event in stream]
        assert events[-1].type == "response.completed"
        deltas = [e for e in events if e.type == "response.output_text.delta"]
        assert all(isinstance(e, OutputTextDeltaEvent) for e in deltas)
        assert "".join(lp.token for e in deltas for lp in e.logprobs) == REPLY
        assert (await client.responses.delete(first.id)).deleted


@pytest.mark.parametrize("method", [Responses.create, AsyncResponses.create])
def test_arguments_are_the_wire_fields(method):
    """Every field of the request model, less those the gateway refuses (``extra_body``)."""
    refused = set(UNSUPPORTED) | {"reasoning"}
    wire = {f.alias or n for n, f in ResponseCreateRequest.model_fields.items()} - refused
    assert sdk_fields(method, ResponseParams) == wire
