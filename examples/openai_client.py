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

# the Responses API: a response, the next turn chained to it, and a stream of typed events
first = client.responses.create(
    model=CHAT, input="Name a planet.", instructions="Answer in one word.", max_output_tokens=10
)
print(first.output_text, first.usage.input_tokens, first.usage.output_tokens)
second = client.responses.create(
    model=CHAT, input="And another one?", previous_response_id=first.id, max_output_tokens=10
)
print(second.output_text)
with client.responses.stream(model=CHAT, input="Say hello.", max_output_tokens=10) as events:
    for event in events:
        if event.type == "response.output_text.delta":
            print(event.delta, end="", flush=True)
print()
