"""An admitted request, run whole or as a stream, its usage metered exactly once.

Every inference service (chat, completions, embeddings) validates and admits a request, then
hands back a :class:`Run`; whoever called it (a route, a batch line) only picks JSON or a
stream. A failure at any step is metered too, with its status code and no tokens.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Generic, TypeVar

from ..errors import ServiceError
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
        """Pass chunks through; meter once when the stream ends, even if the client left."""
        assert self._stream is not None, "this request cannot stream"
        status = 200
        try:
            async for chunk in self._stream():
                yield chunk
        except BaseException as exc:
            status = failure_status(exc)
            raise
        finally:
            self.core.settle(self.call, self.model, self.results, status)


async def admitted(core: Core, call: Call, model: str, start: Callable[[], Awaitable[Out]]) -> Out:
    """Run the validation/admission step ``start``; a refusal is metered before it is raised."""
    try:
        return await start()
    except BaseException as exc:
        core.settle(call, model, [], failure_status(exc))
        raise
