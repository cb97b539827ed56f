"""The steps every inference service shares.

:class:`InferenceService` validates and admits a request, then hands back the core's
:class:`~tokenfactory.core.run.Run`; whoever called it (a route, a batch line) only picks JSON
or a stream, and the run meters its usage exactly once. A failure at any step is metered too,
with its status code and no tokens.

A large request (``Call.input_bytes`` past :data:`OFF_LOOP_BYTES`) is prepared on a worker
thread: tokenizing megabytes takes seconds, and the event loop serves everyone else meanwhile.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Generic, Protocol, TypeVar

from ..core.endpoints import upper_bound_tokens
from ..core.records import Admission
from ..core.run import Run, admitted
from ..errors import ServiceError
from ..wire import ChatCompletionRequest, CompletionRequest, EmbeddingRequest
from .generation import GenerationResult

if TYPE_CHECKING:
    from ..core import Call, Core

Out = TypeVar("Out")
Chunk = TypeVar("Chunk")
OFF_LOOP_BYTES = 256 * 1024


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

    ``start`` hands a request for a model another backend serves (a remote upstream,
    ``Core.backend_for``) to that backend; a local one is prepared (validated, its model
    resolved, its tokens counted), admitted (rate limits, wallet) and handed back as a metered
    :class:`Run`.
    A subclass says how to ``prepare``, ``complete`` and (when it streams) ``events``.
    """

    streams = True

    def __init__(self, core: Core) -> None:
        self.core = core

    async def start(self, req: Req, call: Call) -> Run[Out, Chunk]:
        # usage is attributed to the request's end user (OpenAI's newer name for it too)
        call.user = call.user or req.user or getattr(req, "safety_identifier", None)
        real = self.core.real_model(req.model)
        if real != req.model:  # an alias: answered, echoed and metered as the model it names
            req = req.model_copy(update={"model": real})
        backend = self.core.backend_for(req.model)
        if backend is not None:
            return await backend.start(req, call)

        async def admit() -> Run[Out, Chunk]:
            if call.input_bytes > OFF_LOOP_BYTES:
                p = await asyncio.to_thread(self.prepare, req, call)
            else:
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

    def admission_tokens(self, req: Req, call: Call) -> int:
        """The tokens admission will hold for ``req``, counted before it runs (a batch's upload
        check): its prepared count (the model's tokenizer, chat template included); for a model
        another backend serves, or one that cannot be prepared now (not loaded yet), a bound
        that never undercounts (``upper_bound_tokens``)."""
        real = self.core.real_model(req.model)
        if real != req.model:
            req = req.model_copy(update={"model": real})
        if self.core.backend_for(req.model) is None:
            try:
                return self.prepare(req, call).estimated_tokens
            except ServiceError:
                pass
        return upper_bound_tokens(req)

    def prepare(self, req: Req, call: Call) -> P:
        raise NotImplementedError

    async def complete(self, p: P) -> Out:
        raise NotImplementedError

    def events(self, p: P) -> AsyncIterator[Chunk]:
        raise NotImplementedError
