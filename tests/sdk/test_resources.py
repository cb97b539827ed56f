"""Resources on both clients: paths, typed results, and the notebook conveniences."""

from __future__ import annotations

import base64

import numpy as np

from tests.sdk.conftest import Recorder, chat_completion, reply
from tokenfactory.sdk import types

EMBEDDINGS = {
    "object": "list",
    "model": "test/embed",
    "data": [
        {"object": "embedding", "index": 1, "embedding": [0.0, 1.0, 0.0]},
        {"object": "embedding", "index": 0, "embedding": [0.6, 0.0, 0.8]},
    ],
    "usage": {"prompt_tokens": 4, "total_tokens": 4},
}
MODELS = {
    "object": "list",
    "data": [
        {"id": "test/chat", "modality": "chat", "status": "loaded"},
        {"id": "test/embed", "modality": "embedding", "status": "available"},
    ],
}
COMPLETION = {
    "id": "cmpl-1",
    "object": "text_completion",
    "created": 1,
    "model": "test/chat",
    "choices": [{"index": 0, "text": " Paris.", "finish_reason": "stop"}],
    "usage": {"prompt_tokens": 6, "completion_tokens": 2, "total_tokens": 8},
}


def test_chat_completion_result_and_markdown(make_client):
    handler = Recorder(reply(200, chat_completion("**Bonjour**"), headers={"x-request-id": "r1"}))
    result = make_client(handler).chat.completions.create(
        model="test/chat", messages=[{"role": "user", "content": "hi"}], max_tokens=4
    )
    assert isinstance(result, types.ChatCompletion)
    assert result.request_id == "r1"
    assert result.latency_s is not None and result.latency_s >= 0
    markdown = result._repr_markdown_()
    assert "**Bonjour**" in markdown
    assert "test/chat" in markdown
    assert "5 prompt + 2 completion tokens" in markdown
    assert f"{result.latency_s:.2f} s" in markdown
    assert handler.body()["max_tokens"] == 4


def test_tool_calls_in_markdown(make_client):
    body = chat_completion("")
    body["choices"][0]["message"] = {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {
                "id": "call_1",
                "type": "function",
                "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
            }
        ],
    }
    result = make_client(Recorder(reply(200, body))).chat.completions.create(
        model="m", messages=[{"role": "user", "content": "weather?"}]
    )
    assert 'get_weather({"city": "Paris"})' in result._repr_markdown_()


def test_completions(make_client):
    handler = Recorder(reply(200, COMPLETION))
    result = make_client(handler).completions.create(
        model="test/chat", prompt="The capital of France is", stop=["\n"]
    )
    assert isinstance(result, types.Completion)
    assert result.choices[0].text == " Paris."
    assert "Paris." in result._repr_markdown_()
    assert handler.requests[0].url.path == "/v1/completions"
    assert handler.body() == {
        "model": "test/chat",
        "prompt": "The capital of France is",
        "stop": ["\n"],
    }


def test_embeddings_to_numpy_in_input_order(make_client):
    handler = Recorder(reply(200, EMBEDDINGS))
    result = make_client(handler).embeddings.create(model="test/embed", input=["a", "b"])
    matrix = result.to_numpy()
    assert matrix.dtype == np.float32
    assert matrix.shape == (2, 3)
    np.testing.assert_allclose(matrix, [[0.6, 0.0, 0.8], [0.0, 1.0, 0.0]])
    assert handler.requests[0].url.path == "/v1/embeddings"


def test_embeddings_base64_to_numpy(make_client):
    vector = np.array([0.25, -1.5, 3.0], dtype="<f4")
    body = {
        **EMBEDDINGS,
        "data": [{"index": 0, "embedding": base64.b64encode(vector.tobytes()).decode()}],
    }
    result = make_client(Recorder(reply(200, body))).embeddings.create(
        model="test/embed", input="a", encoding_format="base64"
    )
    np.testing.assert_array_equal(result.to_numpy(), [vector])


def test_models_list_retrieve_unload(make_client):
    handler = Recorder(
        reply(200, MODELS),
        reply(200, MODELS["data"][0]),
        reply(200, {"id": "my adapter", "status": "unloaded"}),
    )
    client = make_client(handler)
    listed = client.models.list()
    assert isinstance(listed, types.ModelList)
    assert [m.id for m in listed.data] == ["test/chat", "test/embed"]
    assert "| test/embed | embedding | available |" in listed._repr_markdown_()
    model = client.models.retrieve("test/chat")
    assert model.modality == "chat"
    unloaded = client.models.unload("my adapter")
    assert unloaded.status == "unloaded"
    assert handler.body() == {"model": "my adapter"}
    paths = [(r.method, r.url.raw_path.decode()) for r in handler.requests]
    assert paths == [
        ("GET", "/v1/models"),
        ("GET", "/v1/models/test/chat"),
        ("POST", "/v1/models/unload"),
    ]


async def test_async_client_shares_the_resources(make_async_client):
    handler = Recorder(
        reply(200, chat_completion("hi async")), reply(200, EMBEDDINGS), reply(200, MODELS)
    )
    async with make_async_client(handler) as client:
        chat = await client.chat.completions.create(
            model="m", messages=[{"role": "user", "content": "x"}]
        )
        embeddings = await client.embeddings.create(model="test/embed", input=["a", "b"])
        models = await client.models.list()
    assert chat.choices[0].message.content == "hi async"
    assert chat.latency_s is not None
    assert embeddings.to_numpy().shape == (2, 3)
    assert len(models.data) == 2


def test_every_resource_is_a_typed_attribute_of_both_clients(make_client, make_async_client):
    """Each resource is a cached_property whose declared type is what it returns (so a type
    checker knows ``client.batches`` and ``client.adapters``), sync and async alike."""
    import typing

    from tokenfactory.sdk import _client
    from tokenfactory.sdk.resources.adapters import Adapters, AsyncAdapters
    from tokenfactory.sdk.resources.batches import AsyncBatches, Batches

    handler = Recorder(reply(200, {}))
    sync, async_ = make_client(handler), make_async_client(handler)
    for client in (sync, async_):
        for name in _client.RESOURCE_NAMES:
            getter = getattr(type(client), name).func
            declared = typing.get_type_hints(getter, vars(_client))["return"]
            resource = getattr(client, name)
            assert type(resource) is declared, name
            assert resource._client is client and getattr(client, name) is resource
    assert (type(sync.batches), type(sync.adapters)) == (Batches, Adapters)
    assert (type(async_.batches), type(async_.adapters)) == (AsyncBatches, AsyncAdapters)
    other = sync.with_options(max_retries=0)
    assert other.batches._client is other and other.chat.completions._client is other
