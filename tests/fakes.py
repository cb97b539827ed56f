"""A scriptable engine and tokenizer for tests that need no model (like simonw/llm's mock).

``FakeEngine(replies=[...])`` answers each generation with the next reply, one character per
token; the tokenizer maps characters to code points, so token counts are exact and readable.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from tokenfactory.engine.input_limits import check_embedding_inputs
from tokenfactory.engine.protocol import (
    EmbeddingResult,
    EngineHealth,
    GenerationOutput,
    GenerationRequest,
    ModelInfo,
    TokenLogprob,
)
from tokenfactory.errors import ModelLoadingError, ModelNotFoundError

EOS = 0
EMBEDDING_CONTEXT = 256


class FakeTokenizer:
    eos_token_id = EOS
    model_max_length = 2048

    def __len__(self) -> int:  # the vocabulary: every Unicode code point
        return 0x110000

    def encode(self, text: str, add_special_tokens: bool = False) -> list[int]:
        return [ord(c) for c in text]

    def __call__(self, text: str | list[str], add_special_tokens: bool = False) -> dict[str, Any]:
        if isinstance(text, list):
            return {"input_ids": [self.encode(t) for t in text]}
        return {"input_ids": self.encode(text)}

    def decode(self, ids: list[int], skip_special_tokens: bool = True) -> str:
        return "".join(chr(i) for i in ids if i != EOS)

    def apply_chat_template(
        self,
        messages: list[dict],
        add_generation_prompt: bool = True,
        tokenize: bool = True,
        **kwargs: Any,
    ) -> Any:
        text = "".join(f"<{m['role']}>{m.get('content') or ''}\n" for m in messages)
        if add_generation_prompt:
            text += "<assistant>"
        return self.encode(text) if tokenize else text


class FakeEngine:
    name = "fake"

    def __init__(
        self,
        replies: list[str] | None = None,
        chat_model: str = "test/chat",
        embedding_model: str = "test/embed",
        delay: float = 0.0,
        shortens: bool = True,
    ) -> None:
        self.replies = list(replies or ["Hello from the fake engine."])
        self.shortens = shortens
        self.chat_model = chat_model
        self.embedding_model = embedding_model
        self.delay = delay
        self.requests: list[GenerationRequest] = []
        self.aborted: list[str] = []
        self._adapters: dict[str, str] = {}
        self.unloaded: set[str] = set()  # model ids unloaded through unload_model
        self._tokenizer = FakeTokenizer()
        self.started = False
        self.running = 0
        self.most_running = 0  # the most generate() calls ever running at once

    async def start(self) -> None:
        self.started = True

    def _next_reply(self) -> str:
        return self.replies[(len(self.requests) - 1) % len(self.replies)]

    async def generate(self, request: GenerationRequest) -> AsyncIterator[GenerationOutput]:
        if request.adapter is not None and self._adapters.get(request.adapter) != request.model:
            raise ModelNotFoundError(f"The adapter '{request.adapter}' is not loaded")
        self.requests.append(request)
        reply = self._next_reply()
        ids = [ord(c) for c in reply]
        limit = request.sampling.max_tokens
        self.running += 1
        self.most_running = max(self.most_running, self.running)
        try:
            for i, tok in enumerate(ids[:limit]):
                if self.delay:
                    await asyncio.sleep(self.delay)
                else:
                    await asyncio.sleep(0)
                last = i == len(ids[:limit]) - 1
                if last:
                    reason = "length" if len(ids) > limit else "stop"
                    yield GenerationOutput([tok], True, reason, len(request.prompt_token_ids))
                    return
                yield GenerationOutput([tok], num_prompt_tokens=len(request.prompt_token_ids))
            yield GenerationOutput([], True, "stop", len(request.prompt_token_ids))
        except GeneratorExit:
            self.aborted.append(request.request_id)
            raise
        finally:
            self.running -= 1

    async def abort(self, request_id: str) -> None:
        self.aborted.append(request_id)

    async def embed(self, model: str, texts: list[str]) -> EmbeddingResult:
        if model != self.embedding_model:
            raise ModelNotFoundError(model)
        ids = [self._tokenizer.encode(t) for t in texts]
        check_embedding_inputs(model, ids, EMBEDDING_CONTEXT)
        vectors = []
        for t in texts:
            v = [float(len(t)), float(sum(map(ord, t)) % 97), 1.0]
            n = sum(x * x for x in v) ** 0.5
            vectors.append([x / n for x in v])
        return EmbeddingResult(vectors, sum(len(t) for t in texts))

    def tokenizer(self, model: str) -> FakeTokenizer:
        return self._tokenizer

    def models(self) -> list[ModelInfo]:
        def status(model: str) -> str:
            return "available" if model in self.unloaded else "loaded"

        return [
            ModelInfo(self.chat_model, "chat", status(self.chat_model), self.name, 2048),
            ModelInfo(
                self.embedding_model,
                "embedding",
                status(self.embedding_model),
                self.name,
                context_length=EMBEDDING_CONTEXT,
                # a model trained for shortened vectors (Matryoshka) may be cut to `dimensions`
                extra={"supports_dimensions": self.shortens},
            ),
        ]

    async def load_model(self, model: str) -> ModelInfo:
        self.unloaded.discard(model)
        for m in self.models():
            if m.id == model:
                return m
        raise ModelNotFoundError(f"The model '{model}' does not exist")

    async def unload_model(self, model: str) -> None:
        """As the real engines: the model's adapters go with it."""
        self.unloaded.add(model)
        for name in [n for n, base in self._adapters.items() if base == model]:
            del self._adapters[name]

    async def load_adapter(self, name: str, path: str, base_model: str) -> None:
        if base_model in self.unloaded:
            raise ModelLoadingError(f"Model '{base_model}' is not loaded")
        self._adapters[name] = base_model

    async def unload_adapter(self, name: str) -> None:
        if self._adapters.pop(name, None) is None:
            raise ModelNotFoundError(f"The adapter '{name}' is not loaded")

    def adapters(self) -> dict[str, str]:
        return dict(self._adapters)

    def health(self) -> EngineHealth:
        return EngineHealth(
            True, self.name, "cpu", self.models(), self.running, 0, list(self._adapters)
        )

    async def sleep(self) -> None:
        return None

    async def wake(self) -> None:
        return None

    async def shutdown(self) -> None:
        self.started = False


def fake_prompt_logprob(position: int) -> float:
    """The made-up logprob of the prompt token at ``position`` (>= 1) on :class:`LogprobEngine`."""
    return -0.25 * (position % 4 + 1)


def fake_alternatives(k: int) -> tuple[tuple[int, float], ...]:
    """The made-up alternatives of every token on :class:`LogprobEngine`: 'x', 'y', ..."""
    return tuple((ord("x") + i, -1.0 - i) for i in range(k))


class LogprobEngine(FakeEngine):
    """Made-up but deterministic logprobs: each generated character -0.5, each prompt token
    :func:`fake_prompt_logprob` (the first None), alternatives :func:`fake_alternatives`."""

    supports_logprobs = True
    supports_prompt_logprobs = True

    async def generate(self, request: GenerationRequest) -> AsyncIterator[GenerationOutput]:
        first = True
        async for out in super().generate(request):
            if request.logprobs is not None and out.token_ids:
                top = fake_alternatives(request.logprobs)
                out.logprobs = [TokenLogprob(t, -0.5, top) for t in out.token_ids]
            if first and request.prompt_logprobs is not None:
                top = fake_alternatives(request.prompt_logprobs)
                out.prompt_logprobs = [None] + [
                    TokenLogprob(t, fake_prompt_logprob(j), top)
                    for j, t in enumerate(request.prompt_token_ids)
                    if j > 0
                ]
            first = False
            yield out
