"""The official `openai` client against a real gateway on the embedded default models."""

from __future__ import annotations

import asyncio
import base64

import numpy as np
import openai
import pytest

from tests.greedy import CAPITAL, CAPITAL_QUESTION, LOGPROBS, assert_greedy_answer

pytestmark = pytest.mark.integration

CHAT = "HuggingFaceTB/SmolLM2-135M-Instruct"
EMBED = "sentence-transformers/all-MiniLM-L6-v2"


@pytest.fixture(scope="module")
def client(server) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.base_url, api_key=server.api_key, max_retries=0)


def test_models_list(client):
    models = {m.id: m for m in client.models.list()}
    assert CHAT in models and EMBED in models
    assert models[CHAT].model_extra["modality"] == "chat"
    assert models[EMBED].model_extra["modality"] == "embedding"


def test_chat_greedy_is_coherent(client):
    r = client.chat.completions.create(
        model=CHAT,
        messages=[{"role": "user", "content": CAPITAL_QUESTION}],
        max_tokens=20,
        temperature=0,
        **LOGPROBS,
    )
    assert r.model == CHAT
    choice = r.choices[0]
    assert_greedy_answer(choice.message.content, choice.finish_reason, choice.logprobs, CAPITAL)
    assert r.usage.completion_tokens > 0
    assert r.usage.total_tokens == r.usage.prompt_tokens + r.usage.completion_tokens


def test_chat_length_and_stop(client):
    r = client.chat.completions.create(
        model=CHAT,
        messages=[{"role": "user", "content": "Count from one to twenty in words."}],
        max_tokens=5,
        temperature=0,
    )
    assert r.choices[0].finish_reason == "length"
    assert r.usage.completion_tokens == 5
    full = (
        client.chat.completions.create(
            model=CHAT,
            messages=[{"role": "user", "content": "What is the capital of France?"}],
            max_tokens=30,
            temperature=0,
        )
        .choices[0]
        .message.content
    )
    word = full.split()[2]
    cut = client.chat.completions.create(
        model=CHAT,
        messages=[{"role": "user", "content": "What is the capital of France?"}],
        max_tokens=30,
        temperature=0,
        stop=[word],
    )
    assert cut.choices[0].finish_reason == "stop"
    assert word not in cut.choices[0].message.content
    assert full.startswith(cut.choices[0].message.content)


def test_streaming_matches_non_streaming(client):
    kwargs = dict(
        model=CHAT,
        messages=[{"role": "user", "content": "Name three colours."}],
        max_tokens=24,
        temperature=0,
    )
    whole = client.chat.completions.create(**kwargs).choices[0].message.content
    stream = client.chat.completions.create(
        **kwargs, stream=True, stream_options={"include_usage": True}
    )
    pieces, finish, usage = [], None, None
    for chunk in stream:
        if chunk.usage:
            usage = chunk.usage
        for choice in chunk.choices:
            pieces.append(choice.delta.content or "")
            finish = choice.finish_reason or finish
    assert "".join(pieces) == whole
    assert finish in ("stop", "length")
    assert usage is not None and usage.completion_tokens > 0


def test_seed_makes_sampling_repeatable(client):
    kwargs = dict(
        model=CHAT,
        messages=[{"role": "user", "content": "Invent a name for a cat."}],
        max_tokens=12,
        temperature=1.0,
        seed=1234,
    )
    a = client.chat.completions.create(**kwargs).choices[0].message.content
    b = client.chat.completions.create(**kwargs).choices[0].message.content
    assert a == b


def test_completions(client):
    r = client.completions.create(
        model=CHAT, prompt="The capital of France is", max_tokens=5, temperature=0
    )
    assert r.choices[0].text.strip()
    assert r.usage.completion_tokens <= 5


def test_embeddings_match_sentence_transformers(client):
    from sentence_transformers import SentenceTransformer

    from tokenfactory.engine.model_files import resolve

    texts = ["A cat sits on the mat.", "Quantum computers use qubits.", "x"]
    r = client.embeddings.create(model=EMBED, input=texts)
    ours = np.array([d.embedding for d in r.data])
    assert ours.shape == (3, 384)
    reference = SentenceTransformer(resolve(EMBED), device="cpu").encode(
        texts, normalize_embeddings=True
    )
    cosines = (ours * reference).sum(axis=1)
    assert cosines.min() > 0.999
    b64 = client.embeddings.create(model=EMBED, input=texts[0], encoding_format="base64")
    decoded = np.frombuffer(base64.b64decode(b64.data[0].embedding), dtype="<f4")
    np.testing.assert_allclose(decoded, ours[0], atol=1e-6)


def test_sdk_exceptions(client, server):
    with pytest.raises(openai.NotFoundError):
        client.chat.completions.create(
            model="acme/missing", messages=[{"role": "user", "content": "hi"}]
        )
    with pytest.raises(openai.BadRequestError) as err:
        client.chat.completions.create(
            model=CHAT, messages=[{"role": "user", "content": "hi"}], temperature=5
        )
    assert "temperature" in err.value.message
    bad = openai.OpenAI(base_url=server.base_url, api_key="tf-wrong", max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        bad.models.list()


def test_concurrent_requests_all_finish(server):
    async def main() -> list[str]:
        client = openai.AsyncOpenAI(base_url=server.base_url, api_key=server.api_key)
        calls = [
            client.chat.completions.create(
                model=CHAT,
                messages=[{"role": "user", "content": f"Say the number {i}."}],
                max_tokens=8,
                temperature=0,
            )
            for i in range(8)
        ]
        results = await asyncio.gather(*calls)
        await client.close()
        return [r.choices[0].finish_reason for r in results]

    reasons = asyncio.run(main())
    assert len(reasons) == 8 and all(r in ("stop", "length") for r in reasons)
