"""Embeddings: texts -> the engine's embedder -> vectors (cut to ``dimensions``), metered.

The same checks for every door: at most ``MAX_INPUTS`` non-empty texts, and ``dimensions`` only
for a model that declares it was trained for shortened vectors, no more than the model has (a
400, never silently truncated vectors). Admission holds the cost of
the texts' real token counts (the model's tokenizer, special tokens included), so a wallet
cannot be overdrawn by text that tokenizes densely (Chinese, code).
"""

from __future__ import annotations

import base64
import time
from dataclasses import dataclass, field

import numpy as np

from ..core.records import Call, Target
from ..errors import InvalidRequestError
from ..wire.embeddings import Embedding, EmbeddingRequest, EmbeddingResponse, EmbeddingUsage
from ..wire.json_limits import MAX_INPUTS_PER_REQUEST
from .generation import GenerationResult
from .run import InferenceService

MAX_INPUTS = MAX_INPUTS_PER_REQUEST


def check_inputs(req: EmbeddingRequest) -> list[str]:
    texts = req.texts()
    if len(texts) > MAX_INPUTS:
        raise InvalidRequestError(
            f"'input' accepts at most {MAX_INPUTS} texts, got {len(texts)}", param="input"
        )
    if any(not t for t in texts):
        raise InvalidRequestError("'input' texts must be non-empty strings", param="input")
    return texts


#: What a model's ``ModelInfo.extra`` says when it was trained for shortened embeddings
#: (Matryoshka): its vectors may be cut to ``dimensions``; any other model refuses it.
SHORTENS = "supports_dimensions"


def check_dimensions(target: Target, dimensions: int | None) -> None:
    """``dimensions`` is a 400 unless the model declares it supports shortening (as OpenAI
    answers it for a model without: ``text-embedding-ada-002``)."""
    if dimensions is None:
        return
    info = next((m for m in target.engine.models() if m.id == target.model), None)
    if info is not None and info.extra.get(SHORTENS):
        return
    raise InvalidRequestError(
        f"'dimensions' is not supported by '{target.model}': it was not trained for shortened"
        " embeddings (leave 'dimensions' out for its full vectors)",
        param="dimensions",
        code="unsupported_parameter",
    )


def shorten(vectors: list[list[float]], dimensions: int | None) -> list[list[float]]:
    """The first ``dimensions`` components of each vector, renormalised (for a model that
    declares it supports shortening, see :func:`check_dimensions`)."""
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


def count_tokens(target: Target, texts: list[str]) -> int:
    """What the engine will count for these texts (its tokenizer; special tokens included)."""
    try:
        tokenizer = target.engine.tokenizer(target.model)
        ids = tokenizer(texts, add_special_tokens=True)["input_ids"]
    except (AttributeError, TypeError, NotImplementedError):  # an engine without a tokenizer
        return sum(len(t.encode("utf-8")) + 2 for t in texts)  # no tokenizer makes more
    return sum(len(i) for i in ids)


@dataclass
class PreparedEmbedding:
    request: EmbeddingRequest
    target: Target
    texts: list[str]
    estimated_tokens: int
    usage: GenerationResult = field(default_factory=GenerationResult)

    @property
    def results(self) -> list[GenerationResult]:
        return [self.usage]


class EmbeddingService(
    InferenceService[EmbeddingRequest, PreparedEmbedding, EmbeddingResponse, EmbeddingResponse]
):
    streams = False

    def prepare(self, req: EmbeddingRequest, call: Call) -> PreparedEmbedding:
        texts = check_inputs(req)
        target = self.core.resolve_model(req.model, "embedding", call.principal)
        check_dimensions(target, req.dimensions)
        return PreparedEmbedding(req, target, texts, count_tokens(target, texts))

    async def complete(self, p: PreparedEmbedding) -> EmbeddingResponse:
        p.usage.started_at = time.perf_counter()
        result = await p.target.engine.embed(p.target.model, p.texts)
        vectors = shorten(result.vectors, p.request.dimensions)
        p.usage.prompt_tokens = result.num_tokens
        p.usage.finished_at = time.perf_counter()
        return EmbeddingResponse(
            data=[
                Embedding(index=i, embedding=encode(v, p.request.encoding_format))
                for i, v in enumerate(vectors)
            ],
            model=p.request.model,
            usage=EmbeddingUsage(prompt_tokens=result.num_tokens, total_tokens=result.num_tokens),
        )
