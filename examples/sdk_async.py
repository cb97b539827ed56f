"""The asyncio client: many questions at once with asyncio.gather.

python examples/sdk_async.py
"""

from __future__ import annotations

import asyncio
import os

import tokenfactory as tf

COUNTRIES = ["France", "Italy", "Spain", "Germany"]


async def main() -> None:
    async with tf.AsyncTokenFactory() as client:
        answers = await asyncio.gather(
            *(
                client.chat.completions.create(
                    model="HuggingFaceTB/SmolLM2-135M-Instruct",
                    messages=[{"role": "user", "content": f"What is the capital of {country}?"}],
                    max_tokens=20,
                    temperature=0,
                )
                for country in COUNTRIES
            )
        )
    for country, answer in zip(COUNTRIES, answers, strict=True):
        print(f"{country}: {answer.choices[0].message.content}")


if __name__ == "__main__":
    if "TOKENFACTORY_BASE_URL" not in os.environ:
        tf.serve()
    asyncio.run(main())
