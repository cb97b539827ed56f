"""Semantic search: embed documents and a query, rank by cosine similarity with NumPy.

python examples/sdk_embeddings.py
"""

from __future__ import annotations

import os

import tokenfactory as tf

if "TOKENFACTORY_BASE_URL" not in os.environ:
    tf.serve()
client = tf.TokenFactory()
EMBED = "sentence-transformers/all-MiniLM-L6-v2"

documents = [
    "Python is a programming language known for simplicity",
    "JavaScript is used for web development",
    "Machine learning uses algorithms to learn from data",
    "TensorFlow is a machine learning framework",
]
docs = client.embeddings.create(model=EMBED, input=documents).to_numpy()  # (4, 384), unit length
query = client.embeddings.create(model=EMBED, input="How do I build AI models?").to_numpy()[0]

for score, doc in sorted(zip(docs @ query, documents, strict=True), reverse=True):
    print(f"{score:.3f}  {doc}")
