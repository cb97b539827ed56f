"""Chat completions: messages -> prompt via the model's chat template -> engine -> response.

Structured outputs and tools are decided in :meth:`ChatService.prepare` (a :class:`ToolPlan`
carries the decoding constraint and the tool-call parser), so a bad schema or tool set fails
with a 400 before anything is generated, streaming or not.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import aclosing
from dataclasses import dataclass, field
from typing import Any

from ..core.records import Call
from ..engine.protocol import Engine, GenerationRequest
from ..wire.chat import (
    ChatChoice,
    ChatCompletion,
    ChatCompletionChunk,
    ChatCompletionRequest,
    ChoiceDelta,
    ChunkChoice,
    FunctionCall,
    ResponseMessage,
    ToolCall,
)
from ..wire.common import Usage
from ..wire.events import TextEvents
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
    choice_copies,
    fit_to_context,
    max_tokens_requested,
    model_sampling,
    stop_sequences,
)
from .tool_deltas import ToolStream, finish_reason
from .tool_render import has_native_tools, template_input
from .tools import ToolPlan, plan_tools


def usage_of(results: GenerationResult | list[GenerationResult]) -> Usage:
    """The usage of one generation, or of the choices of one request (their tokens summed; a
    prompt that answers with ``n`` choices counts once)."""
    results = results if isinstance(results, list) else [results]
    prompt = sum(r.prompt_tokens for r in results)
    completion = sum(r.completion_tokens for r in results)
    return Usage(
        prompt_tokens=prompt, completion_tokens=completion, total_tokens=prompt + completion
    )


@dataclass
class PreparedChat:
    request: ChatCompletionRequest
    engine: Engine
    generations: list[GenerationRequest]  # one per choice (``n``)
    stops: list[str]
    tokenizer: Any
    tools: ToolPlan = field(default_factory=lambda: ToolPlan("none"))
    results: list[GenerationResult] = field(default_factory=list)
    created: int = field(default_factory=lambda: int(time.time()))

    def __post_init__(self) -> None:
        if not self.results:
            self.results = choice_results(len(self.generations))

    @property
    def generation(self) -> GenerationRequest:
        """The first choice's generation (its id is the response's)."""
        return self.generations[0]

    @property
    def result(self) -> GenerationResult:
        return self.results[0]

    @property
    def estimated_tokens(self) -> int:
        prompt = len(self.generation.prompt_token_ids)
        return prompt + sum(g.sampling.max_tokens for g in self.generations)


def _context_length(engine: Engine, model: str) -> int | None:
    info = next((m for m in engine.models() if m.id == model), None)
    return info.context_length if info else None


class ChatService(InferenceService[ChatCompletionRequest, PreparedChat, ChatCompletion, Any]):
    def prepare(self, req: ChatCompletionRequest, call: Call) -> PreparedChat:
        target = self.core.resolve_model(req.model, "chat", call.principal)
        engine, base, adapter = target.engine, target.model, target.adapter
        tokenizer = engine.tokenizer(base)
        stops = stop_sequences(req)
        params = model_sampling(req, tokenizer)
        logprobs = requested(req, engine)
        native = has_native_tools(tokenizer)
        plan = plan_tools(req, native_template=native)
        messages, template_kwargs = template_input(req, plan, native)
        prompt_ids = list(
            tokenizer.apply_chat_template(
                messages,
                add_generation_prompt=True,
                tokenize=True,
                return_dict=False,
                **template_kwargs,
            )
        )
        params = fit_to_context(
            len(prompt_ids),
            params,
            _context_length(engine, base),
            requested=max_tokens_requested(req),
        )
        gen = GenerationRequest(
            request_id=new_request_id("chatcmpl"),
            model=base,
            prompt_token_ids=prompt_ids,
            sampling=params,
            structured=plan.structured,
            adapter=adapter,
            priority=call.priority,
            logprobs=logprobs,
        )
        gens = choice_copies(gen, req.choices_wanted)
        return PreparedChat(req, engine, gens, stops, tokenizer, plan)

    async def _run_one(self, p: PreparedChat, i: int) -> None:
        async for _ in stream_text(p.engine, p.tokenizer, p.generations[i], p.stops, p.results[i]):
            pass

    async def complete(self, p: PreparedChat) -> ChatCompletion:
        await run_all([self._run_one(p, i) for i in range(len(p.generations))])
        return ChatCompletion(
            id=p.generation.request_id,
            created=p.created,
            model=p.request.model,
            choices=[self._choice(p, i) for i in range(len(p.results))],
            usage=usage_of(p.results),
            service_tier=p.request.echoed_service_tier,
        )

    @staticmethod
    def _choice(p: PreparedChat, i: int) -> ChatChoice:
        result = p.results[i]
        message = ResponseMessage(content=result.text)
        finish = result.finish_reason
        parser = p.tools.parser()
        if parser is not None:
            parser.feed(result.text)
            parser.finish()
            calls = parser.complete_calls
            if calls:
                message = ResponseMessage(
                    content=parser.content.strip() or None,
                    tool_calls=[
                        ToolCall(id=c.id, function=FunctionCall(name=c.name, arguments=c.arguments))
                        for c in calls
                    ],
                )
            finish = finish_reason(finish, bool(calls), named=p.tools.choice == "named")
        logprobs = None
        if p.generation.logprobs is not None:
            logprobs = LogprobFormatter(p.tokenizer).chat(result.logprobs)
        return ChatChoice(index=i, message=message, finish_reason=finish, logprobs=logprobs)

    async def events(self, p: PreparedChat) -> AsyncIterator[ChatCompletionChunk | bytes]:
        """The response for SSE: plain content deltas come as encoded ``data:`` events
        (one ``json.dumps`` a delta), everything else as chunk models. With ``n`` choices
        their chunks interleave as they are generated, each with its own ``index``."""
        choices = [self._choice_events(p, i) for i in range(len(p.generations))]
        async with aclosing(merged(choices)) as chunks:
            async for chunk in chunks:
                yield chunk
        opts = p.request.stream_options
        if opts and opts.include_usage:
            yield ChatCompletionChunk(
                id=p.generation.request_id,
                created=p.created,
                model=p.request.model,
                choices=[],
                usage=usage_of(p.results),
                service_tier=p.request.echoed_service_tier,
            )

    async def _choice_events(
        self, p: PreparedChat, i: int
    ) -> AsyncIterator[ChatCompletionChunk | bytes]:
        result = p.results[i]
        formatter = LogprobFormatter(p.tokenizer) if p.generation.logprobs is not None else None
        sent = 0  # logprobs already sent: each chunk carries those of the tokens since

        def chunk(delta: ChoiceDelta, finish: str | None = None) -> ChatCompletionChunk:
            nonlocal sent
            logprobs = None
            if formatter is not None and len(result.logprobs) > sent:
                logprobs = formatter.chat(result.logprobs[sent:])
                sent = len(result.logprobs)
            return ChatCompletionChunk(
                id=p.generation.request_id,
                created=p.created,
                model=p.request.model,
                choices=[
                    ChunkChoice(index=i, delta=delta, finish_reason=finish, logprobs=logprobs)
                ],
                service_tier=p.request.echoed_service_tier,
            )

        yield chunk(ChoiceDelta(role="assistant", content=""))
        tools = ToolStream(p.tools.parser(), named=p.tools.choice == "named")
        # the pre-encoded fast path has no room for logprobs
        fast = formatter is None
        text_event = TextEvents(chunk(ChoiceDelta(content=TextEvents.SLOT))) if fast else None
        async for text in stream_text(p.engine, p.tokenizer, p.generations[i], p.stops, result):
            if text_event is not None and tools.parser is None:
                yield text_event(text)
                continue
            for delta in tools.feed(text):
                yield chunk(delta)
        for delta in tools.finish():
            yield chunk(delta)
        yield chunk(ChoiceDelta(), tools.finish_reason(result.finish_reason))
