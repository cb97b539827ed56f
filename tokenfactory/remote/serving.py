"""Remote models behind the core's chat, completions and embeddings services.

``install(core, specs)`` sets ``core.remote``; from then on a service whose request names a
remote model hands it to :class:`UpstreamService` instead of the local engine (the backend
seam: ``Core.upstream_for``). The request gets the same admission (rate limits, wallet) and
metering as a local one, from an HTTP route or a batch line alike.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from ..core.records import Admission, Call
from ..services.run import Run, admitted
from .config import UpstreamSpec
from .registry import RemoteModels
from .services import RawChunk, RemoteService

if TYPE_CHECKING:
    from ..core import Core

#: A remote answer is the upstream's JSON object, passed on as it came (model id echoed).
UpstreamRun = Run[dict[str, Any], RawChunk]


def install(core: Core, specs: list[UpstreamSpec], health_interval_s: float = 2.0) -> RemoteModels:
    remote = RemoteModels(specs, health_interval_s)
    core.remote = remote
    core.startup_hooks.insert(0, remote.start)
    core.shutdown_hooks.append(remote.shutdown)
    return remote


class UpstreamService:
    def __init__(self, core: Core, remote: RemoteModels) -> None:
        self.core = core
        self.service = RemoteService(remote)

    async def start(self, req: BaseModel, call: Call) -> Any:
        """Admit the request; a stream is opened here, so an upstream's refusal is a plain
        HTTP error rather than an error event."""
        model = str(getattr(req, "model", ""))

        async def admit() -> UpstreamRun:
            remote_call = self.service.prepare(call.endpoint, req)
            headers = await self.core.admit(
                Admission(
                    call.principal, call.endpoint, model, call.tier, remote_call.estimated_tokens
                )
            )
            opened: AsyncIterator[RawChunk] | None = None
            if remote_call.stream:
                opened = await self.service.open_stream(remote_call)
            return Run(
                self.core,
                call,
                model,
                headers,
                remote_call.results,
                lambda: self.service.complete(remote_call),
                (lambda: opened) if opened is not None else None,
            )

        return await admitted(self.core, call, model, admit)
