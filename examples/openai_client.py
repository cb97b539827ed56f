"""The official `openai` Python client against a running tokenfactory gateway.

tokenfactory serve --api-key tf-local-example &      # or tf.serve() in a notebook
python examples/openai_client.py
"""

from __future__ import annotations

import os

from openai import OpenAI

client = OpenAI(
    base_url=os.environ.get("TOKENFACTORY_BASE_URL", "http://127.0.0.1:8000/v1"),
    api_key=os.environ.get("TOKENFACTORY_API_KEY", "tf-local-example"),
)
CHAT = "HuggingFaceTB/SmolLM2-135M-Instruct"
EMBED = "sentence-transformers/all-MiniLM-L6-v2"

print([m.id for m in client.models.list()])

response = client.chat.completions.create(
    model=CHAT,
    messages=[
        {"role": "system", "content": "You are a helpful assistant."},
        {"role": "user", "content": "What is machine learning?"},
    ],
    max_tokens=60,
    temperature=0.7,
)
print(response.choices[0].message.content)
print(response.usage)

stream = client.chat.completions.create(
    model=CHAT,
    messages=[{"role": "user", "content": "Tell me a story about a robot"}],
    max_tokens=60,
    stream=True,
)
for chunk in stream:
    if chunk.choices and chunk.choices[0].delta.content:
        print(chunk.choices[0].delta.content, end="", flush=True)
print()

embeddings = client.embeddings.create(
    model=EMBED, input=["First document about machine learning", "Second about deep learning"]
)
print([len(item.embedding) for item in embeddings.data])
