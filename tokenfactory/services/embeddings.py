"""Embeddings: texts -> the engine's embedder -> vectors (cut to ``dimensions``), metered.

The same checks for every door: at most ``MAX_INPUTS`` non-empty texts, and ``dimensions`` no
more than the model has (a 400, never silently truncated vectors).
"""

from __future__ import annotations

import base64
import time
from typing import TYPE_CHECKING

import numpy as np

from ..core.records import Admission, Call
from ..errors import InvalidRequestError
from ..wire.embeddings import Embedding, EmbeddingRequest, EmbeddingResponse, EmbeddingUsage
from .generation import GenerationResult
from .run import Run, admitted

if TYPE_CHECKING:
    from ..core import Core

MAX_INPUTS = 2048
EmbeddingRun = Run[EmbeddingResponse, EmbeddingResponse]


def check_inputs(req: EmbeddingRequest) -> list[str]:
    texts = req.texts()
    if len(texts) > MAX_INPUTS:
        raise InvalidRequestError(
            f"'input' accepts at most {MAX_INPUTS} texts, got {len(texts)}", param="input"
        )
    if any(not t for t in texts):
        raise InvalidRequestError("'input' texts must be non-empty strings", param="input")
    return texts


def shorten(vectors: list[list[float]], dimensions: int | None) -> list[list[float]]:
    """The first ``dimensions`` components of each vector, renormalised."""
    if dimensions is None:
        return vectors
    size = len(vectors[0]) if vectors else 0
    if dimensions > size:
        raise InvalidRequestError(
            f"'dimensions' must be at most {size} for this model", param="dimensions"
        )
    arr = np.asarray(vectors, dtype=np.float32)[:, :dimensions]
    arr /= np.linalg.norm(arr, axis=1, keepdims=True) + 1e-12
    return arr.tolist()


def encode(vector: list[float], encoding: str) -> list[float] | str:
    if encoding == "base64":
        return base64.b64encode(np.asarray(vector, dtype="<f4").tobytes()).decode()
    return vector


class EmbeddingService:
    def __init__(self, core: Core) -> None:
        self.core = core

    async def start(self, req: EmbeddingRequest, call: Call) -> EmbeddingRun:
        """Validate and admit a request; the returned run embeds the texts, metered."""
        upstream = self.core.upstream_for(req.model)
        if upstream is not None:
            return await upstream.start(req, call)

        async def admit() -> EmbeddingRun:
            texts = check_inputs(req)
            target = self.core.resolve_model(req.model, "embedding", call.principal)
            estimate = sum(len(t) // 3 + 1 for t in texts)
            headers = await self.core.admit(
                Admission(call.principal, call.endpoint, req.model, call.tier, estimate)
            )
            usage = GenerationResult()

            async def embed() -> EmbeddingResponse:
                usage.started_at = time.perf_counter()
                result = await target.engine.embed(target.model, texts)
                vectors = shorten(result.vectors, req.dimensions)
                usage.prompt_tokens = result.num_tokens
                usage.finished_at = time.perf_counter()
                return EmbeddingResponse(
                    data=[
                        Embedding(index=i, embedding=encode(v, req.encoding_format))
                        for i, v in enumerate(vectors)
                    ],
                    model=req.model,
                    usage=EmbeddingUsage(
                        prompt_tokens=result.num_tokens, total_tokens=result.num_tokens
                    ),
                )

            return Run(self.core, call, req.model, headers, [usage], embed)

        return await admitted(self.core, call, req.model, admit)
