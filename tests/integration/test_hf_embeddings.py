"""Embeddings on the real all-MiniLM-L6-v2, checked against sentence-transformers."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from tokenfactory.config import DEFAULT_CHAT_MODEL, DEFAULT_EMBEDDING_MODEL
from tokenfactory.engine import model_files
from tokenfactory.errors import InvalidRequestError

from .hf_helpers import chat_prompt, collect, request

pytestmark = pytest.mark.integration

TEXTS = [
    "The cat sits on the mat.",
    "A very long sentence about the history of the Roman empire and its many emperors, "
    "wars, roads, aqueducts and the slow decline that followed the crisis of the third century.",
    "hi",
    "Quantum computers use qubits.",
    "Ünïcödé text, emoji 🚀 and numbers 12345.",
]


async def test_vectors_match_sentence_transformers_in_input_order(hf_engine):
    from sentence_transformers import SentenceTransformer

    result = await hf_engine.embed(DEFAULT_EMBEDDING_MODEL, TEXTS)
    reference = SentenceTransformer(model_files.resolve(DEFAULT_EMBEDDING_MODEL), device="cpu")
    expected = reference.encode(TEXTS, normalize_embeddings=True)
    got = np.asarray(result.vectors)
    assert got.shape == (len(TEXTS), 384)
    cosines = (got * expected).sum(axis=1)
    assert cosines.min() > 0.9999
    assert np.allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)
    tokenizer = hf_engine.tokenizer(DEFAULT_EMBEDDING_MODEL)
    assert result.num_tokens == sum(len(tokenizer(t)["input_ids"]) for t in TEXTS)


async def test_similar_texts_are_closer(hf_engine):
    result = await hf_engine.embed(
        DEFAULT_EMBEDDING_MODEL,
        ["How do I bake bread?", "A recipe for baking a loaf of bread", "Stock market news"],
    )
    v = np.asarray(result.vectors)
    assert v[0] @ v[1] > v[0] @ v[2] + 0.3


async def test_many_inputs_in_several_batches_keep_their_order(hf_engine):
    texts = [f"sentence number {i} " + "word " * (i % 17) for i in range(150)]
    many = await hf_engine.embed(DEFAULT_EMBEDDING_MODEL, texts)
    some = await hf_engine.embed(DEFAULT_EMBEDDING_MODEL, [texts[149], texts[3]])
    assert np.allclose(many.vectors[149], some.vectors[0], atol=1e-4)
    assert np.allclose(many.vectors[3], some.vectors[1], atol=1e-4)


async def test_embedding_runs_alongside_generation(hf_engine, chat_tokenizer):
    prompt = chat_prompt(chat_tokenizer, "Name three colors.")
    alone, _ = await collect(hf_engine, request(prompt, 12))
    (tokens, _), result = await asyncio.gather(
        collect(hf_engine, request(prompt, 12)),
        hf_engine.embed(DEFAULT_EMBEDDING_MODEL, ["text"] * 200),
    )
    assert tokens == alone and len(result.vectors) == 200


async def test_bad_inputs_are_rejected(hf_engine):
    with pytest.raises(InvalidRequestError) as err:
        await hf_engine.embed(DEFAULT_EMBEDDING_MODEL, ["word " * 400])
    assert err.value.code == "context_length_exceeded" and "256" in err.value.message
    with pytest.raises(InvalidRequestError, match=r"input\[1\] is empty"):
        await hf_engine.embed(DEFAULT_EMBEDDING_MODEL, ["ok", "  "])
    with pytest.raises(AssertionError):  # the services refuse it first (Core.resolve_model)
        await hf_engine.embed(DEFAULT_CHAT_MODEL, ["hello"])
