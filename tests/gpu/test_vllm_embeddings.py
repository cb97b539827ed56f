"""Embeddings from vLLM's pooling runner equal MiniLM's reference vectors."""

from __future__ import annotations

import numpy as np
import pytest

from .conftest import EMBEDDING_MODEL

pytestmark = pytest.mark.gpu

TEXTS = [
    "Python is a programming language known for simplicity",
    "JavaScript is used for web development",
    "Machine learning uses algorithms to learn from data",
    "A short one",
    "TensorFlow is a machine learning framework " * 12,
]


def _reference_vectors(texts: list[str]) -> np.ndarray:
    """Mean pooling + L2 norm with plain transformers on the CPU, in float32."""
    import torch
    from transformers import AutoModel, AutoTokenizer

    from tokenfactory.engine.model_files import resolve

    path = resolve(EMBEDDING_MODEL)
    tokenizer = AutoTokenizer.from_pretrained(path)
    model = AutoModel.from_pretrained(path, torch_dtype=torch.float32).eval()
    batch = tokenizer(texts, padding=True, truncation=True, max_length=512, return_tensors="pt")
    with torch.no_grad():
        hidden = model(**batch).last_hidden_state
    mask = batch["attention_mask"].unsqueeze(-1).float()
    pooled = (hidden * mask).sum(1) / mask.sum(1)
    return torch.nn.functional.normalize(pooled, dim=-1).numpy()


def test_embeddings_match_the_reference(client):
    response = client.embeddings.create(model=EMBEDDING_MODEL, input=TEXTS)
    assert response.model == EMBEDDING_MODEL
    assert [d.index for d in response.data] == list(range(len(TEXTS)))
    vectors = np.array([d.embedding for d in response.data])
    assert vectors.shape == (len(TEXTS), 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-3)
    cosine = (vectors * _reference_vectors(TEXTS)).sum(axis=1)
    assert cosine.min() >= 0.99, cosine
    assert response.usage.prompt_tokens > len(TEXTS)


def test_similar_texts_rank_first(client):
    docs = client.embeddings.create(model=EMBEDDING_MODEL, input=TEXTS[:3])
    query = client.embeddings.create(model=EMBEDDING_MODEL, input="How do I build AI models?")
    scores = np.array([d.embedding for d in docs.data]) @ np.array(query.data[0].embedding)
    assert int(np.argmax(scores)) == 2


def test_chat_model_cannot_embed(client):
    import openai

    from .conftest import CHAT_MODEL

    with pytest.raises(openai.BadRequestError):
        client.embeddings.create(model=CHAT_MODEL, input="hello")
