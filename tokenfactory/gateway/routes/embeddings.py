"""POST /v1/embeddings"""

from __future__ import annotations

import base64
import time

import numpy as np
from fastapi import APIRouter, Depends, Request, Response

from ...errors import InvalidRequestError
from ...remote.gateway_glue import run_remote, serves
from ...services.generation import GenerationResult
from ...store import Principal
from ...wire.embeddings import Embedding, EmbeddingRequest, EmbeddingResponse, EmbeddingUsage
from ..auth import authenticate
from ..metering import admit, gateway_of, record

router = APIRouter()

MAX_INPUTS = 2048


@router.post("/v1/embeddings", response_model=None)
async def create_embeddings(
    body: EmbeddingRequest,
    request: Request,
    response: Response,
    principal: Principal = Depends(authenticate),
) -> EmbeddingResponse | Response:
    if serves(request, body.model):
        return await run_remote(request, response, principal, "/v1/embeddings", body)
    gw = gateway_of(request)
    texts = body.texts()
    if len(texts) > MAX_INPUTS:
        raise InvalidRequestError(
            f"'input' accepts at most {MAX_INPUTS} texts, got {len(texts)}", param="input"
        )
    if any(not t for t in texts):
        raise InvalidRequestError("'input' texts must be non-empty strings", param="input")
    base, _ = gw.resolve_model(body.model, "embedding", principal)
    estimate = sum(len(t) // 3 + 1 for t in texts)
    await admit(request, response, principal, "/v1/embeddings", body.model, "embeddings", estimate)
    started = time.perf_counter()
    result = await gw.engine.embed(base, texts)
    vectors = result.vectors
    if body.dimensions is not None:
        dim = len(vectors[0]) if vectors else 0
        if body.dimensions > dim:
            raise InvalidRequestError(
                f"'dimensions' must be at most {dim} for this model", param="dimensions"
            )
        arr = np.asarray(vectors, dtype=np.float32)[:, : body.dimensions]
        arr /= np.linalg.norm(arr, axis=1, keepdims=True) + 1e-12
        vectors = arr.tolist()
    data = [
        Embedding(index=i, embedding=_encode(v, body.encoding_format))
        for i, v in enumerate(vectors)
    ]
    usage = GenerationResult(prompt_tokens=result.num_tokens, started_at=started)
    usage.finished_at = time.perf_counter()
    await record(request, principal, "/v1/embeddings", body.model, "embeddings", [usage])
    return EmbeddingResponse(
        data=data,
        model=body.model,
        usage=EmbeddingUsage(prompt_tokens=result.num_tokens, total_tokens=result.num_tokens),
    )


def _encode(vector: list[float], encoding: str) -> list[float] | str:
    if encoding == "base64":
        return base64.b64encode(np.asarray(vector, dtype="<f4").tobytes()).decode()
    return vector
