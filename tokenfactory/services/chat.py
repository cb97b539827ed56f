"""Chat completions: messages -> prompt via the model's chat template -> engine -> response.

Structured outputs and tools are decided in :meth:`ChatService.prepare` (a :class:`ToolPlan`
carries the decoding constraint and the tool-call parser), so a bad schema or tool set fails
with a 400 before anything is generated, streaming or not.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
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
from .generation import GenerationResult, new_request_id, stream_text
from .logprobs import LogprobFormatter, requested
from .run import InferenceService
from .sampling import fit_to_context, max_tokens_requested, sampling_params, stop_sequences
from .tool_deltas import ToolStream, finish_reason
from .tool_render import has_native_tools, template_input
from .tools import ToolPlan, plan_tools


def usage_of(result: GenerationResult) -> Usage:
    return Usage(
        prompt_tokens=result.prompt_tokens,
        completion_tokens=result.completion_tokens,
        total_tokens=result.prompt_tokens + result.completion_tokens,
    )


@dataclass
class PreparedChat:
    request: ChatCompletionRequest
    engine: Engine
    generation: GenerationRequest
    stops: list[str]
    tokenizer: Any
    tools: ToolPlan = field(default_factory=lambda: ToolPlan("none"))
    result: GenerationResult = field(default_factory=GenerationResult)
    created: int = field(default_factory=lambda: int(time.time()))

    @property
    def estimated_tokens(self) -> int:
        return len(self.generation.prompt_token_ids) + self.generation.sampling.max_tokens

    @property
    def results(self) -> list[GenerationResult]:
        return [self.result]


def _context_length(engine: Engine, model: str) -> int | None:
    info = next((m for m in engine.models() if m.id == model), None)
    return info.context_length if info else None


class ChatService(InferenceService[ChatCompletionRequest, PreparedChat, ChatCompletion, Any]):
    def prepare(self, req: ChatCompletionRequest, call: Call) -> PreparedChat:
        target = self.core.resolve_model(req.model, "chat", call.principal)
        engine, base, adapter = target.engine, target.model, target.adapter
        tokenizer = engine.tokenizer(base)
        stops = stop_sequences(req)
        params = sampling_params(req)
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
        return PreparedChat(req, engine, gen, stops, tokenizer, plan)

    async def complete(self, p: PreparedChat) -> ChatCompletion:
        async for _ in stream_text(p.engine, p.tokenizer, p.generation, p.stops, p.result):
            pass
        message = ResponseMessage(content=p.result.text)
        finish = p.result.finish_reason
        parser = p.tools.parser()
        if parser is not None:
            parser.feed(p.result.text)
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
            finish = finish_reason(finish, bool(calls))
        logprobs = None
        if p.generation.logprobs is not None:
            logprobs = LogprobFormatter(p.tokenizer).chat(p.result.logprobs)
        return ChatCompletion(
            id=p.generation.request_id,
            created=p.created,
            model=p.request.model,
            choices=[ChatChoice(message=message, finish_reason=finish, logprobs=logprobs)],
            usage=usage_of(p.result),
        )

    async def events(self, p: PreparedChat) -> AsyncIterator[ChatCompletionChunk | bytes]:
        """The response for SSE: plain content deltas come as encoded ``data:`` events
        (one ``json.dumps`` a delta), everything else as chunk models."""
        formatter = LogprobFormatter(p.tokenizer) if p.generation.logprobs is not None else None
        sent = 0  # logprobs already sent: each chunk carries those of the tokens since

        def chunk(delta: ChoiceDelta, finish: str | None = None) -> ChatCompletionChunk:
            nonlocal sent
            logprobs = None
            if formatter is not None and len(p.result.logprobs) > sent:
                logprobs = formatter.chat(p.result.logprobs[sent:])
                sent = len(p.result.logprobs)
            return ChatCompletionChunk(
                id=p.generation.request_id,
                created=p.created,
                model=p.request.model,
                choices=[ChunkChoice(delta=delta, finish_reason=finish, logprobs=logprobs)],
            )

        yield chunk(ChoiceDelta(role="assistant", content=""))
        tools = ToolStream(p.tools.parser())
        # the pre-encoded fast path has no room for logprobs
        fast = formatter is None
        text_event = TextEvents(chunk(ChoiceDelta(content=TextEvents.SLOT))) if fast else None
        async for text in stream_text(p.engine, p.tokenizer, p.generation, p.stops, p.result):
            if text_event is not None and tools.parser is None:
                yield text_event(text)
                continue
            for delta in tools.feed(text):
                yield chunk(delta)
        for delta in tools.finish():
            yield chunk(delta)
        yield chunk(ChoiceDelta(), tools.finish_reason(p.result.finish_reason))
        opts = p.request.stream_options
        if opts and opts.include_usage:
            yield ChatCompletionChunk(
                id=p.generation.request_id,
                created=p.created,
                model=p.request.model,
                choices=[],
                usage=usage_of(p.result),
            )
