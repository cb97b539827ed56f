"""Start a VLLMEngine, generate, shut it down, start a second one in the same process.

Run as a script by ``test_vllm_lifecycle.py`` (a fresh process, so the numbers are not
disturbed by the test session's own server); prints one JSON line of measurements.
"""

from __future__ import annotations

import asyncio
import gc
import json
import time

import torch

from tokenfactory.config import DEFAULT_CHAT_MODEL
from tokenfactory.engine.protocol import GenerationRequest, SamplingParams
from tokenfactory.engine.vllm.engine import VLLMEngine


def free_bytes() -> int:
    return int(torch.cuda.mem_get_info()[0])


def settle(target: int, tolerance: int, wait_s: float = 60.0) -> int:
    """Free memory once it is back within ``tolerance`` of ``target`` (the engine's child
    process needs a moment to exit), or the last reading when it never comes back."""
    deadline = time.monotonic() + wait_s
    free = free_bytes()
    while free < target - tolerance and time.monotonic() < deadline:
        time.sleep(0.5)
        free = free_bytes()
    return free


async def one_engine(tag: str) -> tuple[list[int], int]:
    engine = VLLMEngine(
        chat_models=[DEFAULT_CHAT_MODEL],
        embedding_models=[],
        gpu_memory_utilization=0.2,
        enable_lora=False,
    )
    await engine.start()
    tokenizer = engine.tokenizer(DEFAULT_CHAT_MODEL)
    text = tokenizer.apply_chat_template(
        [{"role": "user", "content": "What is the capital of France?"}],
        tokenize=False,
        add_generation_prompt=True,
    )
    ids = tokenizer(text, add_special_tokens=False)["input_ids"]
    request = GenerationRequest(
        f"probe-{tag}", DEFAULT_CHAT_MODEL, ids, SamplingParams(max_tokens=8, temperature=0)
    )
    tokens: list[int] = []
    async for out in engine.generate(request):
        tokens += out.token_ids
    loaded_free = free_bytes()
    await engine.shutdown()
    del engine
    gc.collect()
    return tokens, loaded_free


async def main() -> None:
    torch.cuda.init()
    total = torch.cuda.mem_get_info()[1]
    before = free_bytes()
    first, loaded_1 = await one_engine("a")
    after_1 = settle(before, tolerance=1 << 30)
    second, loaded_2 = await one_engine("b")
    after_2 = settle(before, tolerance=1 << 30)
    print(
        json.dumps(
            {
                "total": total,
                "before": before,
                "loaded_1": loaded_1,
                "after_1": after_1,
                "loaded_2": loaded_2,
                "after_2": after_2,
                "tokens_1": first,
                "tokens_2": second,
            }
        )
    )


if __name__ == "__main__":
    asyncio.run(main())
