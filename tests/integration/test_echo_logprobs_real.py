"""Prompt logprobs (``echo`` with ``logprobs``) on the real engines: the TransformersEngine's
are a direct transformers forward pass's, vLLM's agree with them, and a plausible continuation
out-scores an absurd one when asked through the openai client as lm-evaluation-harness asks."""

from __future__ import annotations

import asyncio
import itertools
from concurrent.futures import ThreadPoolExecutor

import pytest
import torch
from openai import OpenAI

from tokenfactory.config import DEFAULT_CHAT_MODEL
from tokenfactory.engine.protocol import GenerationRequest, SamplingParams, TokenLogprob

pytestmark = pytest.mark.integration

CONTEXT = "The capital of France is"
CONTINUATIONS = (" Paris", " banana")
_ids = itertools.count()


def token_ids(tokenizer, text: str) -> list[int]:
    return tokenizer(text, add_special_tokens=False)["input_ids"]


async def engine_prompt_logprobs(
    engine, prompt: list[int], alternatives: int
) -> list[TokenLogprob | None]:
    request = GenerationRequest(
        request_id=f"echo-{next(_ids)}",
        model=DEFAULT_CHAT_MODEL,
        prompt_token_ids=prompt,
        sampling=SamplingParams(max_tokens=1, temperature=0),
        prompt_logprobs=alternatives,
    )
    found = None
    async for out in engine.generate(request):
        found = found or out.prompt_logprobs
    assert found is not None
    return found


def scored(server, prompts: list[list[int]]):
    """lm-evaluation-harness's call: the prompts' logprobs, nothing generated (no retries: a
    503 from an engine core that died is not hidden)."""
    client = OpenAI(base_url=server.base_url, api_key=server.api_key, max_retries=0)
    return client.completions.create(
        model=DEFAULT_CHAT_MODEL, prompt=prompts, echo=True, logprobs=1, max_tokens=0
    )


def check_scoring(response, prompts: list[list[int]], context_tokens: int) -> list[float]:
    """Each choice is its prompt, with one logprob per prompt token (the first None); returns
    each continuation's log-likelihood."""
    assert len(response.choices) == len(prompts)
    assert response.usage.completion_tokens == 0
    assert response.usage.prompt_tokens == sum(len(p) for p in prompts)
    scores = []
    for choice, prompt in zip(response.choices, prompts, strict=True):
        logprobs = choice.logprobs
        assert choice.finish_reason == "length"
        assert len(logprobs.tokens) == len(logprobs.token_logprobs) == len(prompt)
        assert "".join(logprobs.tokens) == choice.text
        assert logprobs.token_logprobs[0] is None and logprobs.top_logprobs[0] is None
        assert all(lp <= 0 for lp in logprobs.token_logprobs[1:])
        assert logprobs.text_offset[0] == 0
        assert logprobs.text_offset == sorted(logprobs.text_offset)
        scores.append(sum(logprobs.token_logprobs[context_tokens:]))
    return scores


async def test_hf_prompt_logprobs_are_a_direct_forward_passs(hf_engine, chat_tokenizer):
    """Two prompts of different lengths, sent together: they share a left-padded prefill."""
    prompts = [
        token_ids(chat_tokenizer, CONTEXT + " Paris."),
        token_ids(chat_tokenizer, "Water boils at one hundred degrees Celsius at sea level."),
    ]
    got = await asyncio.gather(*(engine_prompt_logprobs(hf_engine, p, 2) for p in prompts))
    model = hf_engine.hf_model(DEFAULT_CHAT_MODEL)
    for prompt, entries in zip(prompts, got, strict=True):
        with torch.inference_mode():
            logits = model(torch.tensor([prompt])).logits[0].float()
        reference = logits.log_softmax(-1)
        assert len(entries) == len(prompt) and entries[0] is None
        for position, entry in enumerate(entries[1:], start=1):
            assert entry is not None and entry.token_id == prompt[position]
            expected = float(reference[position - 1, prompt[position]])
            assert entry.logprob == pytest.approx(expected, abs=1e-3)
            values, _ = reference[position - 1].topk(2)
            assert [lp for _, lp in entry.top] == pytest.approx(values.tolist(), abs=1e-3)


def test_openai_client_scores_a_continuation_on_the_transformers_engine(server, chat_tokenizer):
    context = token_ids(chat_tokenizer, CONTEXT)
    prompts = [context + token_ids(chat_tokenizer, c) for c in CONTINUATIONS]
    paris, banana = check_scoring(scored(server, prompts), prompts, len(context))
    assert paris > banana

    client = OpenAI(base_url=server.base_url, api_key=server.api_key)
    one = client.completions.create(
        model=DEFAULT_CHAT_MODEL, prompt=CONTEXT, echo=True, logprobs=1, max_tokens=1
    )
    logprobs = one.choices[0].logprobs
    assert len(logprobs.tokens) == len(context) + 1  # the prompt's, then the completion's
    assert logprobs.text_offset[len(context)] == len(CONTEXT)
    assert one.choices[0].text.startswith(CONTEXT)


async def test_vllm_prompt_logprobs_agree_with_the_transformers_engines(
    vllm_server, hf_engine, chat_tokenizer
):
    context = token_ids(chat_tokenizer, CONTEXT)
    prompts = [context + token_ids(chat_tokenizer, c) for c in CONTINUATIONS]
    response = await asyncio.to_thread(scored, vllm_server, prompts)
    paris, banana = check_scoring(response, prompts, len(context))
    assert paris > banana
    # the reference runs in float32; vLLM too where this CPU's bf16 is slow, else in the
    # model's bf16 (AVX512-BF16/AMX CPUs), whose rounding moves a logprob by up to ~2%
    float32 = vllm_server.core.engine._settings.dtype == "float32"
    tolerance = {"abs": 0.02} if float32 else {"rel": 0.05, "abs": 0.1}
    for choice, prompt in zip(response.choices, prompts, strict=True):
        reference = await engine_prompt_logprobs(hf_engine, prompt, 1)
        expected = [e.logprob for e in reference[1:] if e is not None]
        assert choice.logprobs.token_logprobs[1:] == pytest.approx(expected, **tolerance)


def test_vllm_prompt_logprobs_share_steps_with_other_requests_on_lora_slots(
    vllm_server, chat_tokenizer
):
    """With LoRA slots on, vLLM wrapped its output head for LoRA, and that wrapper killed the
    engine core whenever prompt logprobs shared a step with another request (one LoRA index
    per request against one row per prompt token); the engine now keeps LoRA off the output
    head (``vllm_lora.linear_modules``). No retries: a dead engine core fails the test."""
    engine = vllm_server.core.engine
    vllm_server.run(engine.prepare_lora(DEFAULT_CHAT_MODEL))
    restarts = len(engine.restarts)
    context = token_ids(chat_tokenizer, CONTEXT)
    prompts = [context + token_ids(chat_tokenizer, c) for c in CONTINUATIONS]
    client = OpenAI(base_url=vllm_server.base_url, api_key=vllm_server.api_key, max_retries=0)

    def chat(i: int) -> str | None:
        words = " ".join(["more"] * (3 + 7 * i))
        answer = client.chat.completions.create(
            model=DEFAULT_CHAT_MODEL,
            messages=[{"role": "user", "content": f"Say {words}."}],
            max_tokens=8,
        )
        return answer.choices[0].message.content

    with ThreadPoolExecutor(6) as pool:
        for _ in range(5):
            scoring = pool.submit(scored, vllm_server, prompts)
            chats = [pool.submit(chat, i) for i in range(4)]
            check_scoring(scoring.result(), prompts, len(context))
            assert all(c.result() is not None for c in chats)
    assert len(engine.restarts) == restarts
