"""Run one batch line through the same service as the HTTP request it stands for.

A line is a :class:`~tokenfactory.core.Call` at its job's tier and priority: the chat,
completions or embeddings service validates, admits, runs and meters it exactly as it would an
HTTP request. Its usage is deferred: the runner commits it together with the line's result.
A request the service rejects becomes a result with that error as its response body (status
code and all), not an exception; except a passing 503 (a model or adapter still loading, the
engine not up yet): that outcome says ``retry`` and the runner runs the line again later.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field

from pydantic import BaseModel

from ..core import Call, Core, UsageRecord
from ..core.endpoints import ENDPOINTS, Endpoint, Req, Resp
from ..core.validation import parse_body
from ..errors import InvalidRequestError, ServiceError, UnavailableError
from ..store import Principal

log = logging.getLogger("tokenfactory.batch")


@dataclass
class LineOutcome:
    ok: bool
    result: dict  # {"id", "custom_id", "response", "error"}
    usage: list[UsageRecord] = field(default_factory=list)  # to commit with the result
    retry: str | None = None  # why the line must run again later (nothing to commit)


def passing(exc: ServiceError) -> bool:
    """A 503 that time cures (loading, restarting), not a feature this gateway lacks."""
    return isinstance(exc, UnavailableError) and exc.code != "feature_not_enabled"


def result_line(
    custom_id: str,
    status: int | None,
    request_id: str | None,
    body,
    error=None,
    latency_s: float | None = None,
):
    response = None
    if status is not None:
        response = {"status_code": status, "request_id": request_id, "body": body}
        if latency_s is not None:  # the engine's time for the line (evaluations report it)
            response["latency_s"] = round(latency_s, 6)
    return {
        "id": f"batch_req_{uuid.uuid4().hex[:24]}",
        "custom_id": custom_id,
        "response": response,
        "error": error,
    }


def error_line(custom_id: str, code: str, message: str) -> dict:
    return result_line(custom_id, None, None, None, {"code": code, "message": message})


class LineExecutor:
    def __init__(self, core: Core) -> None:
        self.core = core

    async def answer(self, endpoint: Endpoint[Req, Resp], body: dict, call: Call) -> Resp:
        """One line's request through its endpoint's service: the body parsed into the
        endpoint's request model, the answer its response model (a remote model's is the
        upstream's JSON, passed on as it came)."""
        request = parse_body(endpoint.request, body)
        run = await self.core.service(endpoint).start(request, call)
        return await run.complete()

    async def run(
        self, principal: Principal, tier: str, priority: int, line: dict, body: dict
    ) -> LineOutcome:
        custom_id, url = line["custom_id"], line["url"]
        request_id = f"req-{uuid.uuid4().hex[:24]}"
        call = Call(
            principal,
            url,
            tier,
            priority,
            request_id=request_id,
            defer_usage=True,
            input_bytes=len(line["body"]),
        )
        try:
            endpoint = ENDPOINTS.get(url)
            if endpoint is None:
                raise InvalidRequestError(f"Unknown batch endpoint '{url}'")
            answer = await self.answer(endpoint, body, call)
        except ServiceError as exc:
            if passing(exc):
                return LineOutcome(False, {}, retry=f"{exc.code}: {exc.message}")
            body_out = exc.to_dict()
            return LineOutcome(
                False, result_line(custom_id, exc.status_code, request_id, body_out), call.usage
            )
        except Exception as exc:  # a bug or engine failure fails this line, not the job
            log.exception("batch line %s failed", custom_id)
            err = {"error": {"message": str(exc), "type": "server_error", "code": "server_error"}}
            return LineOutcome(False, result_line(custom_id, 500, request_id, err), call.usage)
        payload = (
            answer.model_dump(mode="json", exclude_none=True)
            if isinstance(answer, BaseModel)
            else answer
        )
        latency = max((u.latency_s or 0.0 for u in call.usage), default=None)
        return LineOutcome(
            True, result_line(custom_id, 200, request_id, payload, latency_s=latency), call.usage
        )
