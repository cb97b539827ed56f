"""Remote chat, completions and embeddings: the request forwarded in its own (OpenAI) form.

The shapes match the local services (``prepare`` then ``complete`` or ``stream``, a
``GenerationResult`` filled with the usage), so the gateway's admission and metering run
unchanged. Usage comes from the upstream's ``usage`` (streams ask for ``include_usage``).
"""

from __future__ import annotations

import contextvars
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from ..config import DEFAULT_MAX_TOKENS
from ..core.endpoints import ENDPOINTS, upper_bound_tokens
from ..engine.catalog import a_modality
from ..errors import InvalidRequestError
from ..services.generation import GenerationResult
from ..wire.common import SamplingFields
from .errors import UpstreamFailed
from .pool import ReplicaPool, UpstreamStream
from .registry import RemoteModels

#: How a non-streamed call reaches its upstream, when not through the replica pool: a batch
#: executor that sends lines its own way (the Ray executor) sets it in each line's task, so
#: the line still runs through the ordinary service (validation, admission, metering).
Transport = Callable[["RemoteCall"], Awaitable[dict[str, Any]]]
transport: contextvars.ContextVar[Transport | None] = contextvars.ContextVar(
    "tokenfactory_remote_transport", default=None
)


class RawChunk:
    """An upstream event passed on as it came (``sse_events`` asks for ``model_dump_json``)."""

    __slots__ = ("data",)

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data

    def model_dump_json(self, **_: Any) -> str:
        return json.dumps(self.data, separators=(",", ":"))


@dataclass
class RemoteCall:
    endpoint: str  # our path, e.g. /v1/chat/completions
    model: str  # the id the client asked for
    body: dict[str, Any]  # what goes upstream
    pool: ReplicaPool
    stream: bool = False
    include_usage: bool = False  # the client asked for the usage chunk
    estimated_tokens: int = 0
    result: GenerationResult = field(default_factory=GenerationResult)

    @property
    def results(self) -> list[GenerationResult]:
        return [self.result]

    @property
    def path(self) -> str:
        """The upstream's path for this call (below its ``/v1`` base URL)."""
        return ENDPOINTS[self.endpoint].upstream_path


class RemoteService:
    def __init__(self, remote: RemoteModels) -> None:
        self.remote = remote

    def prepare(self, endpoint: str, request: BaseModel) -> RemoteCall:
        body = request.model_dump(mode="json", exclude_unset=True, by_alias=True)
        model = str(body["model"])
        pool = self.remote.pool_for(model)
        wanted = ENDPOINTS[endpoint].modality
        modality = self.remote.modality(model)
        if modality is not None and modality != wanted:
            raise InvalidRequestError(
                f"Model '{model}' is {a_modality(modality)} model and cannot serve {endpoint}",
                param="model",
                code="model_not_supported",
            )
        if isinstance(request, SamplingFields) and request.asked_max_tokens is None:
            # the output the wallet holds for: the API default, as a local model generates
            body["max_tokens"] = DEFAULT_MAX_TOKENS
        # no tokenizer here: a bound on what the upstream can count (see upper_bound_tokens)
        call = RemoteCall(endpoint, model, body, pool, estimated_tokens=upper_bound_tokens(request))
        if body.get("stream"):
            call.stream = True
            opts = body.get("stream_options") or {}
            call.include_usage = bool(opts.get("include_usage"))
            body["stream_options"] = {**opts, "include_usage": True}
        return call

    async def complete(self, call: RemoteCall) -> dict[str, Any]:
        call.result.started_at = time.perf_counter()
        send = transport.get()
        if send is not None:
            answer = await send(call)
        else:
            answer = await call.pool.post(call.path, call.body)
        call.result.first_token_at = call.result.finished_at = time.perf_counter()
        _take_usage(call.result, answer.get("usage"))
        if answer.get("model") != call.model and "model" in answer:
            answer["model"] = call.model
        return answer

    async def open_stream(self, call: RemoteCall) -> AsyncIterator[RawChunk]:
        """Open the upstream stream now (errors here are ordinary HTTP errors), then relay."""
        call.result.started_at = time.perf_counter()
        upstream = await call.pool.stream(call.path, call.body)
        return self._relay(call, upstream)

    async def _relay(self, call: RemoteCall, upstream: UpstreamStream) -> AsyncIterator[RawChunk]:
        result = call.result
        try:
            async for event in upstream:
                if event.get("model") != call.model and "model" in event:
                    event["model"] = call.model
                usage = event.get("usage")
                if usage:
                    _take_usage(result, usage)
                choices = event.get("choices")
                if result.first_token_at is None and choices and _has_output(choices):
                    result.first_token_at = time.perf_counter()
                if not choices and usage and not call.include_usage:
                    continue
                yield RawChunk(event)
        finally:
            result.finished_at = time.perf_counter()
            await upstream.close()


def _has_output(choices: list[dict[str, Any]]) -> bool:
    for choice in choices:
        delta = choice.get("delta") or {}
        if delta.get("content") or delta.get("tool_calls") or choice.get("text"):
            return True
    return False


def _take_usage(result: GenerationResult, usage: dict[str, Any] | None) -> None:
    if not isinstance(usage, dict):
        return
    try:
        result.prompt_tokens = int(usage.get("prompt_tokens") or 0)
        result.completion_tokens = int(usage.get("completion_tokens") or 0)
    except (TypeError, ValueError) as exc:
        raise UpstreamFailed(f"The upstream sent a malformed usage: {usage}") from exc
