"""Stream a chat completion token by token; leaving the `with` block early closes the connection.

python examples/sdk_streaming.py
"""

from __future__ import annotations

import os

import tokenfactory as tf

if "TOKENFACTORY_BASE_URL" not in os.environ:
    tf.serve()
client = tf.TokenFactory()

with client.chat.completions.create(
    model="HuggingFaceTB/SmolLM2-135M-Instruct",
    messages=[{"role": "user", "content": "Tell me a story about a robot."}],
    max_tokens=80,
    stream=True,
) as stream:
    for chunk in stream:
        if chunk.choices and chunk.choices[0].delta.content:
            print(chunk.choices[0].delta.content, end="", flush=True)
print()
