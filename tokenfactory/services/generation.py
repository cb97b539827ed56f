"""Run one generation on an engine and turn token ids into text, honouring stop strings."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable
from contextlib import aclosing
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

from ..engine.protocol import Engine, GenerationOutput, GenerationRequest, TokenLogprob
from ..errors import InternalError
from .detokenize import incremental_detokenizer
from .stops import StopMatcher

T = TypeVar("T")


@dataclass
class GenerationResult:
    """Filled in as the generation runs; complete once the stream ends."""

    text: str = ""
    finish_reason: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    started_at: float = field(default_factory=time.perf_counter)
    first_token_at: float | None = None
    finished_at: float | None = None
    logprobs: list[TokenLogprob] = field(default_factory=list)  # when the request asked
    #: the prompt's, when the request asked for ``prompt_logprobs`` (the first entry None)
    prompt_logprobs: list[TokenLogprob | None] | None = None
    #: False for the 2nd..nth choice of one prompt (``n``): its prompt is billed once
    counts_prompt: bool = True

    @property
    def ttft_s(self) -> float | None:
        return None if self.first_token_at is None else self.first_token_at - self.started_at

    @property
    def latency_s(self) -> float | None:
        return None if self.finished_at is None else self.finished_at - self.started_at


def new_request_id(prefix: str = "req") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:24]}"


def choice_results(n: int) -> list[GenerationResult]:
    """The results of one prompt's ``n`` choices (only the first counts the prompt)."""
    return [GenerationResult(counts_prompt=i == 0) for i in range(n)]


async def run_all(runs: list[Awaitable[None]]) -> None:
    """Run the choices' generations concurrently; the first failure stops the others (their
    engine requests are aborted) and is raised as it came."""
    tasks = [asyncio.ensure_future(run) for run in runs]
    try:
        await asyncio.gather(*tasks)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def merged(streams: list[AsyncIterator[T]]) -> AsyncGenerator[T, None]:
    """Items of several streams as they come (each chunk names its own choice). The streams run
    concurrently (one task each); closing this generator (or a failing stream) closes them
    all, so their engine requests are aborted."""
    if len(streams) == 1:
        async with aclosing(streams[0]) as only:  # type: ignore[type-var]
            async for item in only:
                yield item
        return
    queue: asyncio.Queue[T | _Done] = asyncio.Queue()

    async def pump(stream: AsyncIterator[T]) -> None:
        try:
            async for item in stream:
                await queue.put(item)
        except BaseException as exc:
            await queue.put(_Done(exc))
            raise
        await queue.put(_Done(None))

    tasks = [asyncio.create_task(pump(s)) for s in streams]
    try:
        running = len(tasks)
        while running:
            got = await queue.get()
            if isinstance(got, _Done):
                if got.error is not None:
                    raise got.error
                running -= 1
                continue
            yield got
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


@dataclass
class _Done:
    error: BaseException | None


async def stream_text(
    engine: Engine,
    tokenizer: Any,
    request: GenerationRequest,
    stops: list[str],
    result: GenerationResult,
) -> AsyncIterator[str]:
    """Yield text deltas; ``result`` holds the finish reason and token counts at the end.

    A stop string ends the generation early (the engine request is aborted by closing its
    stream) with ``finish_reason="stop"``; the stop string itself is not returned.
    """
    detok = incremental_detokenizer(tokenizer)
    matcher = StopMatcher(stops)
    if result.counts_prompt:
        result.prompt_tokens = len(request.prompt_token_ids)
    # Engine.generate's contract: an async generator, whose closing aborts the request
    outputs = cast("AsyncGenerator[GenerationOutput, None]", engine.generate(request))
    try:
        async for out in outputs:
            if out.token_ids:
                if result.first_token_at is None:
                    result.first_token_at = time.perf_counter()
                result.completion_tokens += len(out.token_ids)
            if out.num_prompt_tokens and result.counts_prompt:
                result.prompt_tokens = out.num_prompt_tokens
            if out.logprobs:
                result.logprobs.extend(out.logprobs)
            if out.prompt_logprobs is not None:
                result.prompt_logprobs = out.prompt_logprobs
            delta = matcher.feed(detok.push(out.token_ids)) if out.token_ids else ""
            if out.finished:
                delta += matcher.feed(detok.flush())
                delta += matcher.flush()
                result.finish_reason = "stop" if matcher.stopped else out.finish_reason
            if delta:
                result.text += delta
                yield delta
            if matcher.stopped:
                result.finish_reason = "stop"
                break
            if out.finished:
                break
    finally:
        await outputs.aclose()
        result.finished_at = time.perf_counter()


async def prompt_pass(engine: Engine, request: GenerationRequest, result: GenerationResult) -> None:
    """Nothing generated (``echo`` with ``max_tokens: 0``): only the prompt's logprobs, when
    asked, from the engine's first output. Engines generate at least one token; the request is
    aborted once the prompt's logprobs came, and its token is neither returned nor billed."""
    if result.counts_prompt:
        result.prompt_tokens = len(request.prompt_token_ids)
    if request.prompt_logprobs is not None:
        outputs = cast("AsyncGenerator[GenerationOutput, None]", engine.generate(request))
        try:
            async for out in outputs:
                if out.prompt_logprobs is not None or out.finished:
                    result.prompt_logprobs = out.prompt_logprobs
                    break
        finally:
            await outputs.aclose()
        if result.prompt_logprobs is None:
            raise InternalError(f"The {engine.name} engine returned no prompt logprobs")
    result.finish_reason = "length"
    result.finished_at = time.perf_counter()
