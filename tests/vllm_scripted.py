"""A scripted stand-in for vLLM's ``AsyncLLM`` that speaks vLLM's real classes.

It receives the ``SamplingParams`` / ``LoRARequest`` / ``PoolingParams`` objects our engine
builds and answers with vLLM's own ``RequestOutput`` / ``PoolingRequestOutput``, so tests of
``VLLMEngine`` (and of the gateway on top of it) check the real contract with vLLM without a
GPU. Importing this module needs vLLM.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from vllm.outputs import CompletionOutput, PoolingOutput, PoolingRequestOutput, RequestOutput


def scripted_logprobs(token: int, alternatives: int | None) -> list | None:
    """vLLM's shape for one step: the sampled token (logprob -0.25, rank 1) and the next ids
    as lower-ranked alternatives (logprob -1 - rank)."""
    if alternatives is None:
        return None
    from vllm.logprobs import Logprob

    position = {token: Logprob(-0.25, 1, None)}
    for rank in range(2, alternatives + 1):
        position[token + rank] = Logprob(-1.0 - rank, rank, None)
    return [position]


class ScriptedAsyncLLM:
    """Answers every request with ``reply(params, lora_request)`` token ids, one per step,
    then ``stop`` (or ``length`` at ``max_tokens``); records what it was asked."""

    def __init__(self, reply: Callable | None = None, fail_with: Exception | None = None):
        self.reply = reply or (lambda params, lora: list(range(100, 100 + params.max_tokens)))
        self.fail_with = fail_with
        self.calls: list[dict] = []
        self.closed: list[str] = []
        self.loras: dict[int, object] = {}
        self.pinned: set[int] = set()
        self.sleeps: list[tuple] = []
        self.wakes = 0
        self.shut = False
        self.step = asyncio.Event()
        self.step.set()

    async def generate(self, prompt, params, request_id, *, lora_request=None, priority=0):
        self.calls.append(
            {"prompt": prompt, "params": params, "id": request_id, "lora": lora_request,
             "priority": priority}
        )  # fmt: skip
        if self.fail_with is not None:
            raise self.fail_with
        ids = self.reply(params, lora_request)[: params.max_tokens]
        try:
            for i, token in enumerate(ids):
                await self.step.wait()
                last = i == len(ids) - 1
                reason = ("length" if len(ids) == params.max_tokens else "stop") if last else None
                completion = CompletionOutput(
                    index=0, text="", token_ids=[token], cumulative_logprob=None,
                    logprobs=scripted_logprobs(token, params.logprobs), finish_reason=reason,
                )  # fmt: skip
                yield RequestOutput(
                    request_id, None, prompt["prompt_token_ids"], None, [completion], last
                )
        except GeneratorExit:
            self.closed.append(request_id)
            raise

    async def encode(self, prompt, pooling_params, request_id):
        import torch

        n = len(prompt["prompt_token_ids"])
        data = torch.tensor([float(n), 0.0, 3.0 * n])
        yield PoolingRequestOutput(request_id, PoolingOutput(data), prompt["prompt_token_ids"],
                                   0, True)  # fmt: skip

    async def abort(self, request_id):
        self.closed.append(request_id)

    async def add_lora(self, request):
        self.loras[request.lora_int_id] = request
        return True

    async def remove_lora(self, lora_id):
        return self.loras.pop(lora_id, None) is not None

    async def pin_lora(self, lora_id):
        self.pinned.add(lora_id)
        return lora_id in self.loras

    async def sleep(self, level=1, mode="abort"):
        self.sleeps.append((level, mode))

    async def wake_up(self, tags=None):
        self.wakes += 1

    def shutdown(self, timeout=None):
        self.shut = True
