"""Text completions: a raw prompt (or several) -> engine -> text."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import aclosing
from dataclasses import dataclass, field, replace
from typing import Any

from ..core.records import Call
from ..engine.protocol import Engine, GenerationRequest
from ..errors import InternalError, InvalidRequestError
from ..wire.common import CompletionLogprobs, Usage
from ..wire.completions import Completion, CompletionChoice, CompletionRequest
from ..wire.events import TextEvents
from ..wire.json_limits import MAX_INPUTS_PER_REQUEST
from .generation import (
    GenerationResult,
    choice_results,
    merged,
    new_request_id,
    prompt_pass,
    run_all,
    stream_text,
)
from .logprobs import LogprobFormatter, joined, prompt_requested, requested
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
    #: None: no logprobs; N: each token's (the echoed prompt's too) with N alternatives
    alternatives: int | None = None
    id: str = field(default_factory=lambda: new_request_id("cmpl"))
    created: int = field(default_factory=lambda: int(time.time()))

    @property
    def estimated_tokens(self) -> int:
        nothing = self.request.prompt_only  # its one engine token is dropped, not billed
        return sum(
            len(g.prompt_token_ids) + (0 if nothing else g.sampling.max_tokens)
            for g in self.generations
        )

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
        prompt_logprobs = prompt_requested(req, engine, logprobs)
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
            if req.prompt_only:  # engines generate at least one token: it is dropped
                fitted = replace(fitted, max_tokens=1, min_tokens=0)
            gen = GenerationRequest(
                request_id=new_request_id("cmpl"),
                model=base,
                prompt_token_ids=ids,
                sampling=fitted,
                adapter=adapter,
                priority=call.priority,
                logprobs=None if req.prompt_only else logprobs,
                prompt_logprobs=prompt_logprobs,
            )
            # OpenAI's order: the n choices of the first prompt, then those of the next
            gens.extend(choice_copies(gen, req.choices_wanted))
            results.extend(choice_results(req.choices_wanted))
        prompts = [prompt for prompt in prompts for _ in range(req.choices_wanted)]
        return PreparedCompletion(
            req, engine, gens, prompts, stops, tokenizer, results, alternatives=logprobs
        )

    async def _run_one(self, p: PreparedCompletion, i: int) -> None:
        if p.request.prompt_only:
            await prompt_pass(p.engine, p.generations[i], p.results[i])
            return
        async for _ in stream_text(p.engine, p.tokenizer, p.generations[i], p.stops, p.results[i]):
            pass

    async def complete(self, p: PreparedCompletion) -> Completion:
        await run_all([self._run_one(p, i) for i in range(len(p.generations))])
        choices = [
            CompletionChoice(
                index=i,
                text=(p.prompts[i] if p.request.echo else "") + r.text,
                finish_reason=r.finish_reason,
                logprobs=self._choice_logprobs(p, i),
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
        """The echoed prompt comes first: at once, or with its logprobs once the engine
        computed them (before the first text)."""
        gen, result = p.generations[i], p.results[i]
        echo_pending = p.request.echo
        if echo_pending and gen.prompt_logprobs is None:
            yield self._chunk(p, i, p.prompts[i], None)
            echo_pending = False
        if p.request.prompt_only:
            await prompt_pass(p.engine, gen, result)
            if echo_pending:
                yield self._chunk(p, i, p.prompts[i], None, self._prompt_logprobs(p, i))
            yield self._chunk(p, i, "", result.finish_reason)
            return
        fast = p.alternatives is None  # the pre-encoded path has no logprobs
        text_event = TextEvents(self._chunk(p, i, TextEvents.SLOT, None)) if fast else None
        sent = 0
        async for text in stream_text(p.engine, p.tokenizer, gen, p.stops, result):
            if echo_pending:
                yield self._chunk(p, i, p.prompts[i], None, self._prompt_logprobs(p, i))
                echo_pending = False
            if text_event is not None:
                yield text_event(text)
                continue
            entries = result.logprobs[sent:]
            sent += len(entries)
            start = len(result.text) - len(text)  # where this delta starts
            yield self._chunk(p, i, text, None, self._logprobs(p, i, entries, start))
        if echo_pending:
            yield self._chunk(p, i, p.prompts[i], None, self._prompt_logprobs(p, i))
        rest = result.logprobs[sent:]
        logprobs = self._logprobs(p, i, rest, len(result.text)) if rest else None
        yield self._chunk(p, i, "", result.finish_reason, logprobs)

    @classmethod
    def _choice_logprobs(cls, p: PreparedCompletion, i: int) -> CompletionLogprobs | None:
        completion = cls._logprobs(p, i, p.results[i].logprobs)
        if completion is None or p.generations[i].prompt_logprobs is None:
            return completion
        return joined(cls._prompt_logprobs(p, i), completion)

    @staticmethod
    def _prompt_logprobs(p: PreparedCompletion, i: int) -> CompletionLogprobs:
        entries = p.results[i].prompt_logprobs
        if entries is None or p.alternatives is None:
            raise InternalError(f"The {p.engine.name} engine returned no prompt logprobs")
        ids = p.generations[i].prompt_token_ids
        if len(entries) != len(ids):
            raise InternalError(
                f"The {p.engine.name} engine returned {len(entries)} prompt logprobs for"
                f" {len(ids)} prompt tokens"
            )
        return LogprobFormatter(p.tokenizer).prompt(ids, entries, p.alternatives)

    @staticmethod
    def _logprobs(
        p: PreparedCompletion, i: int, entries: list, start: int = 0
    ) -> CompletionLogprobs | None:
        """``text_offset`` counts from the choice's text (``start``: the delta's place in it)."""
        if p.alternatives is None:
            return None
        offset = start + (len(p.prompts[i]) if p.request.echo else 0)
        return LogprobFormatter(p.tokenizer).completion(entries, offset, p.alternatives)

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
