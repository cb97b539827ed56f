"""Small helpers the TransformersEngine integration tests share."""

from __future__ import annotations

import itertools

from tokenfactory.config import DEFAULT_CHAT_MODEL
from tokenfactory.engine.protocol import GenerationRequest, SamplingParams, StructuredSpec

_ids = itertools.count()


def chat_prompt(tokenizer, text: str) -> list[int]:
    return list(
        tokenizer.apply_chat_template(
            [{"role": "user", "content": text}],
            add_generation_prompt=True,
            tokenize=True,
            return_dict=False,
        )
    )


def request(
    prompt_ids: list[int],
    max_tokens: int = 12,
    temperature: float = 0.0,
    seed: int | None = None,
    structured: StructuredSpec | None = None,
    adapter: str | None = None,
    priority: int = 0,
    model: str = DEFAULT_CHAT_MODEL,
) -> GenerationRequest:
    return GenerationRequest(
        request_id=f"test-{next(_ids)}",
        model=model,
        prompt_token_ids=prompt_ids,
        sampling=SamplingParams(max_tokens=max_tokens, temperature=temperature, seed=seed),
        structured=structured,
        adapter=adapter,
        priority=priority,
    )


async def collect(engine, req: GenerationRequest) -> tuple[list[int], str | None]:
    tokens: list[int] = []
    finish = None
    async for out in engine.generate(req):
        tokens.extend(out.token_ids)
        finish = out.finish_reason
    return tokens, finish
