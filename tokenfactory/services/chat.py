"""Chat completions: messages -> prompt via the model's chat template -> engine -> response."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

from ..engine.protocol import Engine, GenerationRequest
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


def render_messages(req: ChatCompletionRequest) -> list[dict[str, Any]]:
    messages = []
    for m in req.messages:
        item: dict[str, Any] = {"role": "system" if m.role == "developer" else m.role}
        item["content"] = m.text()
        messages.append(item)
    return messages


class ChatService:
    def __init__(self, engine: Engine, resolve_model: Any, priority: int = 0) -> None:
        self.engine = engine
        self.resolve_model = resolve_model  # model id -> (base model id, adapter name | None)
        self.priority = priority

    def prepare(
        self, req: ChatCompletionRequest, priority: int | None = None
    ) -> tuple[GenerationRequest, list[str], Any]:
        base, adapter = self.resolve_model(req.model, "chat")
        tokenizer = self.engine.tokenizer(base)
        stops = stop_sequences(req)
        params = sampling_params(req)
        prompt_ids = list(
            tokenizer.apply_chat_template(
                render_messages(req), add_generation_prompt=True, tokenize=True, return_dict=False
            )
        )
        check_context(len(prompt_ids), params.max_tokens, getattr(tokenizer, "model_max_length", None))
        gen = GenerationRequest(
            request_id=new_request_id("chatcmpl"),
            model=base,
            prompt_token_ids=prompt_ids,
            sampling=params,
            adapter=adapter,
            priority=self.priority if priority is None else priority,
        )
        return gen, stops, tokenizer

    async def complete(
        self, req: ChatCompletionRequest, result: GenerationResult | None = None
    ) -> ChatCompletion:
        gen, stops, tokenizer = self.prepare(req)
        result = result or GenerationResult()
        async for _ in stream_text(self.engine, tokenizer, gen, stops, result):
            pass
        return ChatCompletion(
            id=gen.request_id,
            created=int(time.time()),
            model=req.model,
            choices=[
                ChatChoice(
                    message=ResponseMessage(content=result.text),
                    finish_reason=result.finish_reason,
                )
            ],
            usage=Usage(
                prompt_tokens=result.prompt_tokens,
                completion_tokens=result.completion_tokens,
                total_tokens=result.prompt_tokens + result.completion_tokens,
            ),
        )

    async def stream(
        self, req: ChatCompletionRequest, result: GenerationResult | None = None
    ) -> AsyncIterator[ChatCompletionChunk]:
        gen, stops, tokenizer = self.prepare(req)
        result = result or GenerationResult()
        created = int(time.time())

        def chunk(delta: ChoiceDelta, finish: str | None = None) -> ChatCompletionChunk:
            return ChatCompletionChunk(
                id=gen.request_id,
                created=created,
                model=req.model,
                choices=[ChunkChoice(delta=delta, finish_reason=finish)],
            )

        yield chunk(ChoiceDelta(role="assistant", content=""))
        async for text in stream_text(self.engine, tokenizer, gen, stops, result):
            yield chunk(ChoiceDelta(content=text))
        yield chunk(ChoiceDelta(), result.finish_reason)
        if req.stream_options and req.stream_options.include_usage:
            yield ChatCompletionChunk(
                id=gen.request_id,
                created=created,
                model=req.model,
                choices=[],
                usage=Usage(
                    prompt_tokens=result.prompt_tokens,
                    completion_tokens=result.completion_tokens,
                    total_tokens=result.prompt_tokens + result.completion_tokens,
                ),
            )
