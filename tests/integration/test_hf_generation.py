"""TransformersEngine generation on the real SmolLM2: correctness of continuous batching."""

from __future__ import annotations

import asyncio

import pytest
import torch

from tests.greedy import CAPITAL_QUESTION
from tokenfactory.config import DEFAULT_CHAT_MODEL, DEFAULT_EMBEDDING_MODEL
from tokenfactory.errors import InvalidRequestError, ModelNotFoundError

from .hf_helpers import chat_prompt, collect, request

pytestmark = pytest.mark.integration

STORY = "Write a long story about a dragon who learns to cook."


async def test_greedy_output_equals_transformers_generate(hf_engine, chat_tokenizer):
    # every greedy step of its answer is decided by a wide margin (tests/greedy.py)
    prompt = chat_prompt(chat_tokenizer, CAPITAL_QUESTION)
    tokens, finish = await collect(hf_engine, request(prompt, max_tokens=16))
    model = hf_engine.hf_model(DEFAULT_CHAT_MODEL)
    with torch.inference_mode():
        ref = model.generate(torch.tensor([prompt]), max_new_tokens=16, do_sample=False)
    expected = ref[0, len(prompt) :].tolist()
    assert tokens == expected
    assert "Paris" in chat_tokenizer.decode(tokens)
    assert finish == ("stop" if expected[-1] == chat_tokenizer.eos_token_id else "length")


async def test_requests_joining_a_running_batch_get_their_solo_output(hf_engine, chat_tokenizer):
    prompts = [
        chat_prompt(chat_tokenizer, STORY),
        chat_prompt(chat_tokenizer, "Name three colors."),
        chat_prompt(chat_tokenizer, "What is 2+2? Explain your answer in detail."),
    ]
    solo = [await collect(hf_engine, request(p, max_tokens=20)) for p in prompts]
    assert solo[0][1] == "length"  # the first one is still running when the others join

    started = asyncio.Event()

    async def first() -> list[int]:
        tokens: list[int] = []
        async for out in hf_engine.generate(request(prompts[0], max_tokens=20)):
            tokens.extend(out.token_ids)
            if len(tokens) == 4:
                started.set()
        return tokens

    task = asyncio.create_task(first())
    await started.wait()
    assert not task.done()
    joined = await asyncio.gather(
        *(collect(hf_engine, request(p, max_tokens=20)) for p in prompts[1:])
    )
    assert [await task, *(t for t, _ in joined)] == [t for t, _ in solo]
    assert [f for _, f in joined] == [f for _, f in solo[1:]]


async def test_rows_leaving_the_batch_do_not_disturb_the_others(hf_engine, chat_tokenizer):
    """The longest prompt finishes first, so the batch trims its left padding while the
    other rows keep decoding."""
    long_prompt = chat_prompt(chat_tokenizer, "Summarise this: " + "the river runs. " * 40)
    short = [chat_prompt(chat_tokenizer, q) for q in ("Name three colors.", "Say hi.")]
    jobs = [request(long_prompt, max_tokens=2)] + [request(p, max_tokens=14) for p in short]
    solo = [
        await collect(hf_engine, request(j.prompt_token_ids, j.sampling.max_tokens)) for j in jobs
    ]
    together = await asyncio.gather(*(collect(hf_engine, j) for j in jobs))
    assert together == solo


async def test_max_tokens_ends_with_length(hf_engine, chat_tokenizer):
    tokens, finish = await collect(hf_engine, request(chat_prompt(chat_tokenizer, STORY), 5))
    assert (len(tokens), finish) == (5, "length")


async def test_closing_the_stream_aborts_the_request(hf_engine, chat_tokenizer):
    stream = hf_engine.generate(request(chat_prompt(chat_tokenizer, STORY), max_tokens=500))
    received = 0
    async for out in stream:
        received += len(out.token_ids)
        if received >= 2:
            break
    await stream.aclose()
    for _ in range(100):
        if hf_engine.health().requests_running == 0:
            break
        await asyncio.sleep(0.05)
    assert hf_engine.health().requests_running == 0


async def test_abort_by_request_id_finishes_with_abort(hf_engine, chat_tokenizer):
    req = request(chat_prompt(chat_tokenizer, STORY), max_tokens=500)
    outputs = []
    async for out in hf_engine.generate(req):
        outputs.append(out)
        if len(outputs) == 2:
            await hf_engine.abort(req.request_id)
    assert outputs[-1].finished and outputs[-1].finish_reason == "abort"
    assert len(outputs) < 50


async def test_a_seed_makes_sampling_reproducible_in_any_batch(hf_engine, chat_tokenizer):
    prompt = chat_prompt(chat_tokenizer, "Tell me something surprising.")
    alone, _ = await collect(hf_engine, request(prompt, 16, temperature=1.0, seed=7))
    crowd = await asyncio.gather(
        collect(hf_engine, request(prompt, 16, temperature=1.0, seed=7)),
        collect(hf_engine, request(chat_prompt(chat_tokenizer, STORY), 16, temperature=1.0)),
        collect(hf_engine, request(prompt, 16, temperature=1.0, seed=8)),
    )
    assert crowd[0][0] == alone
    assert crowd[2][0] != alone


async def test_bad_requests_raise_typed_errors(hf_engine, chat_tokenizer):
    prompt = chat_prompt(chat_tokenizer, "hi")
    with pytest.raises(ModelNotFoundError):
        await collect(hf_engine, request(prompt, model="nobody/no-model"))
    with pytest.raises(AssertionError):  # the API refuses it above the engine (a 400 there)
        await collect(hf_engine, request(prompt, model=DEFAULT_EMBEDDING_MODEL))
    with pytest.raises(ModelNotFoundError, match="adapter"):
        await collect(hf_engine, request(prompt, adapter="not-loaded"))
    with pytest.raises(InvalidRequestError) as err:
        await collect(hf_engine, request([1] * 9000))
    assert err.value.code == "context_length_exceeded"
    with pytest.raises(InvalidRequestError, match="empty"):
        await collect(hf_engine, request([]))


async def test_catalog_and_health_report_the_loaded_models(hf_engine):
    models = {m.id: m for m in hf_engine.models()}
    chat, embed = models[DEFAULT_CHAT_MODEL], models[DEFAULT_EMBEDDING_MODEL]
    assert (chat.status, chat.modality, chat.context_length) == ("loaded", "chat", 8192)
    assert (embed.status, embed.modality, embed.context_length) == ("loaded", "embedding", 256)
    assert chat.size_bytes > 100_000_000 and chat.extra["dtype"] == "float32"
    health = hf_engine.health()
    assert health.ready and health.engine == "transformers" and health.device == "cpu"
