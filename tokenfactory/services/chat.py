"""Chat completions: messages -> prompt via the model's chat template -> engine -> response."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

from ..engine.protocol import PRIORITY_INTERACTIVE, Engine, GenerationRequest
from ..wire.chat import (
    ChatChoice,
    ChatCompletion,
    ChatCompletionChunk,
    ChatCompletionRequest,
    ChoiceDelta,
    ChunkChoice,
    ResponseMessage,
)
from ..wire.common import Usage
from .generation import GenerationResult, new_request_id, stream_text
from .sampling import check_context, sampling_params, stop_sequences

Resolver = Callable[[str, str], "tuple[str, str | None]"]


def render_messages(req: ChatCompletionRequest) -> list[dict[str, Any]]:
    messages = []
    for m in req.messages:
        role = "system" if m.role == "developer" else m.role
        messages.append({"role": role, "content": m.text()})
    return messages


def usage_of(result: GenerationResult) -> Usage:
    return Usage(
        prompt_tokens=result.prompt_tokens,
        completion_tokens=result.completion_tokens,
        total_tokens=result.prompt_tokens + result.completion_tokens,
    )


@dataclass
class PreparedChat:
    request: ChatCompletionRequest
    generation: GenerationRequest
    stops: list[str]
    tokenizer: Any
    result: GenerationResult = field(default_factory=GenerationResult)
    created: int = field(default_factory=lambda: int(time.time()))

    @property
    def estimated_tokens(self) -> int:
        return len(self.generation.prompt_token_ids) + self.generation.sampling.max_tokens


class ChatService:
    def __init__(self, engine: Engine, resolve_model: Resolver) -> None:
        self.engine = engine
        self.resolve_model = resolve_model

    def prepare(
        self, req: ChatCompletionRequest, priority: int = PRIORITY_INTERACTIVE
    ) -> PreparedChat:
        base, adapter = self.resolve_model(req.model, "chat")
        tokenizer = self.engine.tokenizer(base)
        stops = stop_sequences(req)
        params = sampling_params(req)
        prompt_ids = list(
            tokenizer.apply_chat_template(
                render_messages(req), add_generation_prompt=True, tokenize=True, return_dict=False
            )
        )
        check_context(len(prompt_ids), params.max_tokens, self._context_length(base))
        gen = GenerationRequest(
            request_id=new_request_id("chatcmpl"),
            model=base,
            prompt_token_ids=prompt_ids,
            sampling=params,
            adapter=adapter,
            priority=priority,
        )
        return PreparedChat(req, gen, stops, tokenizer)

    def _context_length(self, model: str) -> int | None:
        info = next((m for m in self.engine.models() if m.id == model), None)
        return info.context_length if info else None

    async def complete(self, p: PreparedChat) -> ChatCompletion:
        async for _ in stream_text(self.engine, p.tokenizer, p.generation, p.stops, p.result):
            pass
        return ChatCompletion(
            id=p.generation.request_id,
            created=p.created,
            model=p.request.model,
            choices=[
                ChatChoice(
                    message=ResponseMessage(content=p.result.text),
                    finish_reason=p.result.finish_reason,
                )
            ],
            usage=usage_of(p.result),
        )

    async def stream(self, p: PreparedChat) -> AsyncIterator[ChatCompletionChunk]:
        def chunk(delta: ChoiceDelta, finish: str | None = None) -> ChatCompletionChunk:
            return ChatCompletionChunk(
                id=p.generation.request_id,
                created=p.created,
                model=p.request.model,
                choices=[ChunkChoice(delta=delta, finish_reason=finish)],
            )

        yield chunk(ChoiceDelta(role="assistant", content=""))
        async for text in stream_text(self.engine, p.tokenizer, p.generation, p.stops, p.result):
            yield chunk(ChoiceDelta(content=text))
        yield chunk(ChoiceDelta(), p.result.finish_reason)
        opts = p.request.stream_options
        if opts and opts.include_usage:
            yield ChatCompletionChunk(
                id=p.generation.request_id,
                created=p.created,
                model=p.request.model,
                choices=[],
                usage=usage_of(p.result),
            )
