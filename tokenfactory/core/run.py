"""The run a service hands back for a request it admitted: complete it or stream it.

Whoever started it (a route, a batch line) only picks JSON or a stream; the run meters its
usage exactly once (``Core.settle``), failures included, with their status code; a run
cancelled part-way (its client left, the server stopped) is metered for what ran.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Generic, TypeVar

from ..errors import ServiceError
from .records import Call, Spent

if TYPE_CHECKING:
    from .app import Core

Out = TypeVar("Out")
Chunk = TypeVar("Chunk")
Out2 = TypeVar("Out2")
Chunk2 = TypeVar("Chunk2")


@dataclass(frozen=True)
class Ran:
    """What a generation cut short spent (a :class:`Spent`)."""

    prompt_tokens: int
    completion_tokens: int
    latency_s: float | None
    ttft_s: float | None


def what_ran(results: Sequence[Spent]) -> list[Spent]:
    """The usage of a run cut short: the tokens generated, and the prompts of the generations
    that produced one (a prompt still queued when it was cut was never run)."""
    return [
        Ran(
            r.prompt_tokens if r.completion_tokens else 0,
            r.completion_tokens,
            r.latency_s,
            r.ttft_s,
        )
        for r in results
    ]


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
    results: Sequence[Spent]  # filled in as it runs; metered once it ends
    _complete: Callable[[], Awaitable[Out]]
    _stream: Callable[[], AsyncIterator[Chunk]] | None = None

    async def complete(self) -> Out:
        try:
            out = await self._complete()
        except asyncio.CancelledError:
            self.core.settle(self.call, self.model, what_ran(self.results), 499)
            raise
        except BaseException as exc:
            self.core.settle(self.call, self.model, [], failure_status(exc))
            raise
        self.core.settle(self.call, self.model, self.results)
        return out

    def then(
        self,
        answer: Callable[[Out], Awaitable[Out2]],
        events: Callable[[AsyncIterator[Chunk]], AsyncIterator[Chunk2]],
    ) -> Run[Out2, Chunk2]:
        """This run with its answer and its chunks translated into another API's (the
        Responses API over chat): metered once, as this run would have been."""
        stream = self._stream

        async def complete() -> Out2:
            return await answer(await self._complete())

        return Run(
            self.core,
            self.call,
            self.model,
            self.headers,
            self.results,
            complete,
            (lambda: events(stream())) if stream is not None else None,
        )

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
