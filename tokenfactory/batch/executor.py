"""Run one batch line through the same services as interactive traffic, at batch priority.

Returns the line's result in OpenAI's batch output shape; a request the service rejects
becomes a result with that error as its response body (status code and all), not an exception.
"""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass

import numpy as np

from ..errors import InvalidRequestError, ServiceError
from ..gateway.state import Gateway, UsageRecord
from ..remote.gateway_glue import remote_of, run_remote_line
from ..services.chat import ChatService
from ..services.completions import CompletionService
from ..services.generation import GenerationResult
from ..store import Principal
from ..wire.chat import ChatCompletionRequest
from ..wire.completions import CompletionRequest
from ..wire.embeddings import EmbeddingRequest

log = logging.getLogger("tokenfactory.batch")


@dataclass
class LineOutcome:
    ok: bool
    result: dict  # {"id", "custom_id", "response", "error"}


def result_line(custom_id: str, status: int | None, request_id: str | None, body, error=None):
    response = None
    if status is not None:
        response = {"status_code": status, "request_id": request_id, "body": body}
    return {
        "id": f"batch_req_{uuid.uuid4().hex[:24]}",
        "custom_id": custom_id,
        "response": response,
        "error": error,
    }


def error_line(custom_id: str, code: str, message: str) -> dict:
    return result_line(custom_id, None, None, None, {"code": code, "message": message})


class LineExecutor:
    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway

    async def run(
        self, principal: Principal, tier: str, priority: int, line: dict, body: dict
    ) -> LineOutcome:
        custom_id, url = line["custom_id"], line["url"]
        request_id = f"req-{uuid.uuid4().hex[:24]}"
        try:
            remote = remote_of(self.gateway)
            if remote is not None and remote.serves(str(body.get("model"))):
                payload, results = await run_remote_line(remote, url, body)
            elif url == "/v1/chat/completions":
                payload, results = await self._chat(principal, priority, body)
            elif url == "/v1/completions":
                payload, results = await self._completion(principal, priority, body)
            elif url == "/v1/embeddings":
                payload, results = await self._embeddings(principal, body)
            else:
                raise InvalidRequestError(f"Unknown batch endpoint '{url}'")
        except ServiceError as exc:
            return LineOutcome(
                False, result_line(custom_id, exc.status_code, request_id, exc.to_dict())
            )
        except Exception as exc:  # a bug or engine failure fails this line, not the job
            log.exception("batch line %s failed", custom_id)
            err = {"error": {"message": str(exc), "type": "server_error", "code": "server_error"}}
            return LineOutcome(False, result_line(custom_id, 500, request_id, err))
        await self._record(principal, url, body, tier, results, request_id)
        return LineOutcome(True, result_line(custom_id, 200, request_id, payload))

    def _resolver(self, principal: Principal):
        return lambda model, kind: self.gateway.resolve_model(model, kind, principal)

    async def _chat(self, principal: Principal, priority: int, body: dict):
        service = ChatService(self.gateway.engine, self._resolver(principal))
        prepared = service.prepare(ChatCompletionRequest.model_validate(body), priority=priority)
        completion = await service.complete(prepared)
        return completion.model_dump(mode="json", exclude_none=True), [prepared.result]

    async def _completion(self, principal: Principal, priority: int, body: dict):
        service = CompletionService(self.gateway.engine, self._resolver(principal))
        prepared = service.prepare(CompletionRequest.model_validate(body), priority=priority)
        completion = await service.complete(prepared)
        return completion.model_dump(mode="json", exclude_none=True), prepared.results

    async def _embeddings(self, principal: Principal, body: dict):
        from ..gateway.routes.embeddings import _encode

        req = EmbeddingRequest.model_validate(body)
        base, _ = self.gateway.resolve_model(req.model, "embedding", principal)
        started = time.perf_counter()
        out = await self.gateway.engine.embed(base, req.texts())
        vectors = out.vectors
        if req.dimensions is not None:
            arr = np.asarray(vectors, dtype=np.float32)[:, : req.dimensions]
            arr /= np.linalg.norm(arr, axis=1, keepdims=True) + 1e-12
            vectors = arr.tolist()
        usage = GenerationResult(prompt_tokens=out.num_tokens, started_at=started)
        usage.finished_at = time.perf_counter()
        payload = {
            "object": "list",
            "data": [
                {"object": "embedding", "index": i, "embedding": _encode(v, req.encoding_format)}
                for i, v in enumerate(vectors)
            ],
            "model": req.model,
            "usage": {"prompt_tokens": out.num_tokens, "total_tokens": out.num_tokens},
        }
        return payload, [usage]

    async def _record(self, principal, url, body, tier, results, request_id) -> None:
        await self.gateway.record_usage(
            UsageRecord(
                principal=principal,
                endpoint=url,
                model=str(body.get("model")),
                tier=tier,
                prompt_tokens=sum(r.prompt_tokens for r in results),
                completion_tokens=sum(r.completion_tokens for r in results),
                latency_s=max((r.latency_s or 0.0) for r in results) if results else None,
                ttft_s=min((r.ttft_s for r in results if r.ttft_s is not None), default=None),
                status=200,
                request_id=request_id,
            )
        )
