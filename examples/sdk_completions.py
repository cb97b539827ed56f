"""Plain text completion: a prompt in, its continuation out.

python examples/sdk_completions.py
"""

from __future__ import annotations

import os

import tokenfactory as tf

if "TOKENFACTORY_BASE_URL" not in os.environ:
    tf.serve()
client = tf.TokenFactory()

completion = client.completions.create(
    model="HuggingFaceTB/SmolLM2-135M-Instruct",
    prompt="The three primary colours are",
    max_tokens=20,
    temperature=0,
    stop=["\n"],
)
print(repr(completion.choices[0].text), completion.choices[0].finish_reason)
