"""Run a prompt over every row of a DataFrame, 8 requests at a time; failed rows are marked.

python examples/sdk_dataframe.py
"""

from __future__ import annotations

import os

import pandas as pd

import tokenfactory as tf

if "TOKENFACTORY_BASE_URL" not in os.environ:
    tf.serve()

reviews = pd.DataFrame(
    {
        "review": [
            "The battery lasts all day, love it.",
            "Broke after a week. Never again.",
            "Does what it says, nothing more.",
            "Fantastic screen, terrible speakers.",
        ]
    }
)
out = tf.map_prompts(
    reviews,
    "Is this review positive or negative? Answer in one word.\n\nReview: {}",
    column="review",
    concurrency=8,
    max_tokens=5,
    temperature=0,
)
print(out[["review", "response", "error"]].to_string())
