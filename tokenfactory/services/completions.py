"""Text completions: a raw prompt (or several) -> engine -> text."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import aclosing
from dataclasses import dataclass, field
from typing import Any

from ..core.records import Call
from ..engine.protocol import Engine, GenerationRequest
from ..errors import InvalidRequestError
from ..wire.common import CompletionLogprobs, Usage
from ..wire.completions import Completion, CompletionChoice, CompletionRequest
from ..wire.events import TextEvents
from ..wire.json_limits import MAX_INPUTS_PER_REQUEST
from .generation import (
    GenerationResult,
    choice_results,
    merged,
    new_request_id,
    run_all,
    stream_text,
)
from .logprobs import LogprobFormatter, requested
from .run import InferenceService
from .sampling import (
    check_token_ids,
    choice_copies,
    fit_to_context,
    max_tokens_requested,
    model_sampling,
    stop_sequences,
)


@dataclass
class PreparedCompletion:
    request: CompletionRequest
    engine: Engine
    generations: list[GenerationRequest]
    prompts: list[str]
    stops: list[str]
    tokenizer: Any
    results: list[GenerationResult]
    id: str = field(default_factory=lambda: new_request_id("cmpl"))
    created: int = field(default_factory=lambda: int(time.time()))

    @property
    def estimated_tokens(self) -> int:
        return sum(len(g.prompt_token_ids) + g.sampling.max_tokens for g in self.generations)

    def usage(self) -> Usage:
        prompt = sum(r.prompt_tokens for r in self.results)
        completion = sum(r.completion_tokens for r in self.results)
        return Usage(
            prompt_tokens=prompt, completion_tokens=completion, total_tokens=prompt + completion
        )


class CompletionService(
    InferenceService[CompletionRequest, PreparedCompletion, Completion, Completion | bytes]
):
    def prepare(self, req: CompletionRequest, call: Call) -> PreparedCompletion:
        target = self.core.resolve_model(req.model, "chat", call.principal)
        engine, base, adapter = target.engine, target.model, target.adapter
        tokenizer = engine.tokenizer(base)
        stops = stop_sequences(req)
        params = model_sampling(req, tokenizer)
        logprobs = requested(req, engine)
        if req.suffix:
            raise InvalidRequestError(
                f"'suffix' is not supported: the model '{req.model}' has no fill-in-the-middle"
                " (send the text before the completion as the prompt)",
                param="suffix",
                code="unsupported_parameter",
            )
        given = req.prompt_list()
        if len(given) * req.choices_wanted > MAX_INPUTS_PER_REQUEST:
            raise InvalidRequestError(
                f"'prompt' accepts at most {MAX_INPUTS_PER_REQUEST} prompts (times 'n'),"
                f" got {len(given)} x {req.choices_wanted}",
                param="prompt",
            )
        info = next((m for m in engine.models() if m.id == base), None)
        gens: list[GenerationRequest] = []
        results: list[GenerationResult] = []
        prompts: list[str] = []
        for prompt in given:
            if isinstance(prompt, str):
                ids = tokenizer(prompt, add_special_tokens=False)["input_ids"] or [
                    tokenizer.eos_token_id
                ]
            else:  # token ids: generated from as they are; echoed as their text
                check_token_ids(prompt, tokenizer, "prompt")
                ids = list(prompt)
                prompt = tokenizer.decode(ids, skip_special_tokens=False)
            prompts.append(prompt)
            fitted = fit_to_context(
                len(ids),
                params,
                info.context_length if info else None,
                requested=max_tokens_requested(req),
                prompt_param="prompt",
            )
            gen = GenerationRequest(
                request_id=new_request_id("cmpl"),
                model=base,
                prompt_token_ids=ids,
                sampling=fitted,
                adapter=adapter,
                priority=call.priority,
                logprobs=logprobs,
            )
            # OpenAI's order: the n choices of the first prompt, then those of the next
            gens.extend(choice_copies(gen, req.choices_wanted))
            results.extend(choice_results(req.choices_wanted))
        prompts = [prompt for prompt in prompts for _ in range(req.choices_wanted)]
        return PreparedCompletion(req, engine, gens, prompts, stops, tokenizer, results)

    async def _run_one(self, p: PreparedCompletion, i: int) -> None:
        async for _ in stream_text(p.engine, p.tokenizer, p.generations[i], p.stops, p.results[i]):
            pass

    async def complete(self, p: PreparedCompletion) -> Completion:
        await run_all([self._run_one(p, i) for i in range(len(p.generations))])
        choices = [
            CompletionChoice(
                index=i,
                text=(p.prompts[i] if p.request.echo else "") + r.text,
                finish_reason=r.finish_reason,
                logprobs=self._logprobs(p, i, r.logprobs),
            )
            for i, r in enumerate(p.results)
        ]
        return Completion(
            id=p.id,
            created=p.created,
            model=p.request.model,
            choices=choices,
            usage=p.usage(),
            service_tier=p.request.echoed_service_tier,
        )

    async def events(self, p: PreparedCompletion) -> AsyncIterator[Completion | bytes]:
        """The stream for SSE: text deltas come as encoded ``data:`` events. The choices
        (prompts times ``n``) run concurrently; their chunks interleave, each with its index."""
        choices = [self._choice_events(p, i) for i in range(len(p.generations))]
        async with aclosing(merged(choices)) as chunks:
            async for chunk in chunks:
                yield chunk
        opts = p.request.stream_options
        if opts and opts.include_usage:
            yield Completion(
                id=p.id,
                created=p.created,
                model=p.request.model,
                choices=[],
                usage=p.usage(),
                service_tier=p.request.echoed_service_tier,
            )

    async def _choice_events(
        self, p: PreparedCompletion, i: int
    ) -> AsyncIterator[Completion | bytes]:
        gen = p.generations[i]
        if p.request.echo:
            yield self._chunk(p, i, p.prompts[i], None)
        fast = gen.logprobs is None  # the pre-encoded path has no logprobs
        text_event = TextEvents(self._chunk(p, i, TextEvents.SLOT, None)) if fast else None
        sent = 0
        async for text in stream_text(p.engine, p.tokenizer, gen, p.stops, p.results[i]):
            if text_event is not None:
                yield text_event(text)
                continue
            entries = p.results[i].logprobs[sent:]
            sent += len(entries)
            start = len(p.results[i].text) - len(text)  # where this delta starts
            yield self._chunk(p, i, text, None, self._logprobs(p, i, entries, start))
        rest = p.results[i].logprobs[sent:]
        logprobs = self._logprobs(p, i, rest, len(p.results[i].text)) if rest else None
        yield self._chunk(p, i, "", p.results[i].finish_reason, logprobs)

    @staticmethod
    def _logprobs(
        p: PreparedCompletion, i: int, entries: list, start: int = 0
    ) -> CompletionLogprobs | None:
        """``text_offset`` counts from the choice's text (``start``: the delta's place in it)."""
        alternatives = p.generations[i].logprobs
        if alternatives is None:
            return None
        offset = start + (len(p.prompts[i]) if p.request.echo else 0)
        return LogprobFormatter(p.tokenizer).completion(entries, offset, alternatives)

    @staticmethod
    def _chunk(
        p: PreparedCompletion,
        i: int,
        text: str,
        finish: str | None,
        logprobs: CompletionLogprobs | None = None,
    ) -> Completion:
        return Completion(
            id=p.id,
            created=p.created,
            model=p.request.model,
            choices=[CompletionChoice(index=i, text=text, finish_reason=finish, logprobs=logprobs)],
            service_tier=p.request.echoed_service_tier,
        )
