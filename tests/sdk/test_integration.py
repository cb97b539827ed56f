"""Round trips against a real ``tf.serve()`` on the embedded default models (sync and async)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import tokenfactory as tf
from tokenfactory.config import DEFAULT_CHAT_MODEL as CHAT
from tokenfactory.config import DEFAULT_EMBEDDING_MODEL as EMBED

pytestmark = pytest.mark.integration

QUESTION = [{"role": "user", "content": "What is the capital of France?"}]


@pytest.fixture(scope="module")
def client(server):
    # no arguments: the client finds the gateway this process started with tf.serve()
    with tf.TokenFactory() as client:
        assert str(client.base_url) == server.base_url
        yield client


def test_chat(client):
    result = client.chat.completions.create(
        model=CHAT, messages=QUESTION, max_tokens=12, temperature=0
    )
    assert result.model == CHAT
    assert "Paris" in result.choices[0].message.content
    assert result.usage.completion_tokens > 0
    assert result.request_id and result.latency_s > 0
    assert "Paris" in result._repr_markdown_()


def test_stream_matches_non_stream(client):
    params = {"model": CHAT, "messages": QUESTION, "max_tokens": 12, "temperature": 0}
    whole = client.chat.completions.create(**params).choices[0].message.content
    with client.chat.completions.create(**params, stream=True) as stream:
        text = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
    assert text == whole


def test_completions_embeddings_models(client):
    completion = client.completions.create(
        model=CHAT, prompt="The capital of France is", max_tokens=4, temperature=0
    )
    assert completion.choices[0].text
    matrix = client.embeddings.create(
        model=EMBED, input=["a cat", "a kitten", "tax law"]
    ).to_numpy()
    assert matrix.shape == (3, 384)
    np.testing.assert_allclose(np.linalg.norm(matrix, axis=1), 1.0, atol=1e-3)
    assert matrix[0] @ matrix[1] > matrix[0] @ matrix[2]
    ids = [m.id for m in client.models.list().data]
    assert CHAT in ids and EMBED in ids
    assert client.models.retrieve(EMBED).modality == "embedding"


def test_typed_errors(client, server):
    with pytest.raises(tf.NotFoundError):
        client.chat.completions.create(model="nobody/nothing", messages=QUESTION)
    with pytest.raises(tf.BadRequestError):
        client.chat.completions.create(model=CHAT, messages=QUESTION, max_tokens=0)
    with (
        tf.TokenFactory(base_url=server.base_url, api_key="tf-not-a-key") as stranger,
        pytest.raises(tf.AuthenticationError),
    ):
        stranger.models.list()


def test_map_prompts(client):
    df = pd.DataFrame({"country": ["France", "Italy", "Spain"]})
    out = tf.map_prompts(
        df,
        "What is the capital of {}?",
        column="country",
        client=client,
        concurrency=3,
        max_tokens=6,
        temperature=0,
        progress=False,
    )
    assert out["error"].isna().all()
    assert out["response"].str.len().gt(0).all()


async def test_async_round_trip(server):
    async with tf.AsyncTokenFactory() as client:
        result = await client.chat.completions.create(
            model=CHAT, messages=QUESTION, max_tokens=12, temperature=0
        )
        assert "Paris" in result.choices[0].message.content
        stream = await client.chat.completions.create(
            model=CHAT, messages=QUESTION, max_tokens=12, temperature=0, stream=True
        )
        async with stream:
            text = "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])
        assert text == result.choices[0].message.content
        embeddings = await client.embeddings.create(model=EMBED, input="hello")
        assert embeddings.to_numpy().shape == (1, 384)
        with pytest.raises(tf.NotFoundError):
            await client.models.retrieve("nobody/nothing")
