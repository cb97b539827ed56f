"""The SDK against the real gateway app (routes, auth, error mapping, SSE) over the fake engine.

Sync calls go through Starlette's TestClient (an httpx.Client); async ones through
httpx.ASGITransport. No model is loaded: tests/fakes.py answers.
"""

from __future__ import annotations

import httpx
import pytest

import tokenfactory.sdk as sdk
from tests.fakes import FakeEngine
from tokenfactory.engine.protocol import GenerationOutput
from tokenfactory.errors import ModelLoadingError

REPLY = "Hello from the fake engine."
MESSAGES = [{"role": "user", "content": "hi"}]


@pytest.fixture
def client(api, fake_gateway):
    return sdk.TokenFactory(
        base_url="http://testserver/v1", api_key=fake_gateway.test_key, http_client=api
    )


@pytest.fixture
async def aclient(fake_gateway):
    from tokenfactory.gateway.app import create_app

    await fake_gateway.start_engine()
    transport = httpx.ASGITransport(app=create_app(fake_gateway))
    async with sdk.AsyncTokenFactory(
        base_url="http://testserver/v1",
        api_key=fake_gateway.test_key,
        http_client=httpx.AsyncClient(transport=transport),
    ) as client:
        yield client


def test_chat(client):
    result = client.chat.completions.create(model="test/chat", messages=MESSAGES)
    assert result.choices[0].message.content == REPLY
    assert result.usage.completion_tokens == len(REPLY)
    assert result.request_id
    assert "test/chat" in result._repr_markdown_()


def test_chat_stream(client):
    with client.chat.completions.create(
        model="test/chat", messages=MESSAGES, stream=True, max_tokens=5
    ) as stream:
        chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == REPLY[:5]
    assert chunks[-1].choices[0].finish_reason == "length"


def test_completions_embeddings_models(client):
    completion = client.completions.create(model="test/chat", prompt="Say", max_tokens=3)
    assert completion.choices[0].text == REPLY[:3]
    with client.completions.create(model="test/chat", prompt="Say", stream=True) as stream:
        assert "".join(c.choices[0].text for c in stream if c.choices) == REPLY
    matrix = client.embeddings.create(model="test/embed", input=["a", "bb", "ccc"]).to_numpy()
    assert matrix.shape == (3, 3)
    assert matrix[0] == pytest.approx(matrix[0] / (matrix[0] ** 2).sum() ** 0.5)
    ids = [m.id for m in client.models.list().data]
    assert {"test/chat", "test/embed"} <= set(ids)
    assert client.models.retrieve("test/embed").modality == "embedding"


def test_errors_from_the_gateway(client, fake_gateway):
    with pytest.raises(sdk.NotFoundError) as info:
        client.chat.completions.create(model="nope/missing", messages=MESSAGES)
    assert info.value.code == "model_not_found"
    assert info.value.request_id
    with pytest.raises(sdk.BadRequestError) as info:
        client.chat.completions.create(model="test/chat", messages=MESSAGES, temperature=5)
    assert "temperature" in info.value.message
    with pytest.raises(sdk.NotFoundError):
        client.models.retrieve("nope/missing")
    bad = sdk.TokenFactory(
        base_url="http://testserver/v1", api_key="tf-wrong", http_client=client._http
    )
    with pytest.raises(sdk.AuthenticationError) as info:
        bad.models.list()
    assert info.value.type == "authentication_error"


def test_error_event_mid_stream(client, fake_engine: FakeEngine, monkeypatch):
    async def failing(request):
        fake_engine.requests.append(request)
        yield GenerationOutput([ord("H")], num_prompt_tokens=len(request.prompt_token_ids))
        raise ModelLoadingError("the engine is reloading")

    monkeypatch.setattr(fake_engine, "generate", failing)
    seen = []
    with pytest.raises(sdk.ServiceUnavailableError) as info:
        for chunk in client.chat.completions.create(
            model="test/chat", messages=MESSAGES, stream=True
        ):
            seen.extend(c.delta.content for c in chunk.choices if c.delta.content)
    assert seen == ["H"]
    assert "reloading" in info.value.message


async def test_async_round_trip(aclient):
    result = await aclient.chat.completions.create(model="test/chat", messages=MESSAGES)
    assert result.choices[0].message.content == REPLY
    stream = await aclient.chat.completions.create(
        model="test/chat", messages=MESSAGES, stream=True
    )
    async with stream:
        text = "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])
    assert text == REPLY
    embeddings = await aclient.embeddings.create(model="test/embed", input="x")
    assert embeddings.to_numpy().shape == (1, 3)
    with pytest.raises(sdk.NotFoundError):
        await aclient.models.retrieve("nope/missing")
