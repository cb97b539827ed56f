"""The steps every inference service shares, and the run it hands back.

:class:`InferenceService` validates and admits a request, then hands back a :class:`Run`;
whoever called it (a route, a batch line) only picks JSON or a stream, and the run meters its
usage exactly once. A failure at any step is metered too, with its status code and no tokens.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Generic, Protocol, TypeVar

from ..core.records import Admission
from ..errors import ServiceError
from ..wire import ChatCompletionRequest, CompletionRequest, EmbeddingRequest
from .generation import GenerationResult

if TYPE_CHECKING:
    from ..core import Call, Core

Out = TypeVar("Out")
Chunk = TypeVar("Chunk")


def failure_status(exc: BaseException) -> int:
    if isinstance(exc, ServiceError):
        return exc.status_code
    if isinstance(exc, (asyncio.CancelledError, GeneratorExit)):
        return 499  # the caller went away
    return 500


@dataclass
class Run(Generic[Out, Chunk]):
    core: Core
    call: Call
    model: str  # as the request named it (echoed back, and what usage is recorded under)
    headers: dict[str, str]  # what admission wants on the response (rate limits)
    results: list[GenerationResult]
    _complete: Callable[[], Awaitable[Out]]
    _stream: Callable[[], AsyncIterator[Chunk]] | None = None

    async def complete(self) -> Out:
        try:
            out = await self._complete()
        except BaseException as exc:
            self.core.settle(self.call, self.model, [], failure_status(exc))
            raise
        self.core.settle(self.call, self.model, self.results)
        return out

    async def stream(self) -> AsyncIterator[Chunk]:
        """Pass chunks through; meter once when the stream ends, even if the client left.

        A stop asked through ``core.in_flight`` ends it after the chunk being sent (closing
        the chunks aborts the engine request)."""
        assert self._stream is not None, "this request cannot stream"
        status = 200
        stop = self.core.in_flight.enter(self.call.request_id, self.call.principal)
        chunks = self._stream()
        try:
            async for chunk in chunks:
                yield chunk
                if stop.is_set():
                    break
        except BaseException as exc:
            status = failure_status(exc)
            raise
        finally:
            self.core.in_flight.leave(self.call.request_id, stop)
            close = getattr(chunks, "aclose", None)
            try:
                if close is not None:
                    await close()
            finally:
                self.core.settle(self.call, self.model, self.results, status)


async def admitted(core: Core, call: Call, model: str, start: Callable[[], Awaitable[Out]]) -> Out:
    """Run the validation/admission step ``start``; a refusal is metered before it is raised."""
    try:
        return await start()
    except BaseException as exc:
        core.settle(call, model, [], failure_status(exc))
        raise


class Prepared(Protocol):
    """A validated request, ready to run: what admission checks and what metering reads."""

    @property
    def estimated_tokens(self) -> int: ...

    @property
    def results(self) -> list[GenerationResult]: ...


#: The inference doors' requests (each names its model; a remote model's is sent on as it came).
Req = TypeVar("Req", ChatCompletionRequest, CompletionRequest, EmbeddingRequest)
P = TypeVar("P", bound=Prepared)


class InferenceService(Generic[Req, P, Out, Chunk]):
    """Chat, completions and embeddings: the same steps for every door.

    ``start`` sends a remote model's request to its upstream (``Core.upstream_for``, the
    backend seam); a local one is prepared (validated, its model resolved, its tokens
    counted), admitted (rate limits, wallet) and handed back as a metered :class:`Run`.
    A subclass says how to ``prepare``, ``complete`` and (when it streams) ``events``.
    """

    streams = True

    def __init__(self, core: Core) -> None:
        self.core = core

    async def start(self, req: Req, call: Call) -> Run[Out, Chunk]:
        call.user = call.user or req.user  # usage is attributed to the request's end user
        upstream = self.core.upstream_for(req.model)
        if upstream is not None:
            return await upstream.start(req, call)

        async def admit() -> Run[Out, Chunk]:
            p = self.prepare(req, call)
            headers = await self.core.admit(
                Admission(call.principal, call.endpoint, req.model, call.tier, p.estimated_tokens)
            )
            return Run(
                self.core,
                call,
                req.model,
                headers,
                p.results,
                lambda: self.complete(p),
                (lambda: self.events(p)) if self.streams else None,
            )

        return await admitted(self.core, call, req.model, admit)

    def prepare(self, req: Req, call: Call) -> P:
        raise NotImplementedError

    async def complete(self, p: P) -> Out:
        raise NotImplementedError

    def events(self, p: P) -> AsyncIterator[Chunk]:
        raise NotImplementedError
