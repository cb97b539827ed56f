"""Chat with the tokenfactory SDK, and handle its typed errors.

python examples/sdk_chat.py     # starts a gateway in-process unless TOKENFACTORY_BASE_URL is set
"""

from __future__ import annotations

import os

import tokenfactory as tf

if "TOKENFACTORY_BASE_URL" not in os.environ:
    tf.serve()
client = tf.TokenFactory()  # finds the gateway: arguments, then env, then tf.serve()
CHAT = "HuggingFaceTB/SmolLM2-135M-Instruct"

response = client.chat.completions.create(
    model=CHAT,
    messages=[
        {"role": "system", "content": "You are a helpful assistant."},
        {"role": "user", "content": "What is the capital of France?"},
    ],
    max_tokens=30,
    temperature=0,
)
print(response.choices[0].message.content)
print(response.usage, f"{response.latency_s:.2f} s", response.request_id)

try:
    client.chat.completions.create(
        model="no/such-model", messages=[{"role": "user", "content": "?"}]
    )
except tf.NotFoundError as exc:
    print("not found:", exc.code, exc.message)
except tf.RateLimitError:
    print("rate limited even after the SDK's retries")
except tf.APIError as exc:
    print("API error:", exc)
