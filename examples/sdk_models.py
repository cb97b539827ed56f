"""The model catalog: what the gateway serves, and one model's details.

python examples/sdk_models.py
"""

from __future__ import annotations

import os

import tokenfactory as tf

if "TOKENFACTORY_BASE_URL" not in os.environ:
    tf.serve()
client = tf.TokenFactory()

for model in client.models.list().data:
    print(f"{model.id:45} {model.modality or '':10} {model.status or ''}")
model = client.models.retrieve("sentence-transformers/all-MiniLM-L6-v2")
print(model.model_dump(exclude_none=True))
