"""Remote models behind the core's chat, completions and embeddings services.

``install(core, specs)`` plugs an :class:`UpstreamBackend` into the core's ``backends`` port
(``core.ports.ModelBackend``) and registers the ``RemoteModels`` in ``core.installed``; from
then on a service whose request names a remote model hands it to that backend instead of the
local engine (``Core.backend_for``). The request gets the same admission (rate limits, wallet)
and metering as a local one, from an HTTP route or a batch line alike.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from ..core.endpoints import endpoint_of
from ..core.records import Admission, Call
from ..core.run import Run, admitted
from ..engine.protocol import ModelInfo
from .config import UpstreamSpec
from .registry import RemoteModels
from .services import RawChunk, RemoteService

if TYPE_CHECKING:
    from ..core import Core

#: A remote answer is the upstream's JSON object, passed on as it came (model id echoed).
UpstreamRun = Run[dict[str, Any], RawChunk]


def install(core: Core, specs: list[UpstreamSpec], health_interval_s: float = 2.0) -> RemoteModels:
    remote = RemoteModels(specs, health_interval_s)
    core.installed.add(remote)
    core.backends.append(UpstreamBackend(core, remote))
    core.startup_hooks.insert(0, remote.start)
    core.shutdown_hooks.append(remote.shutdown)
    return remote


class UpstreamBackend:
    """The remote models behind the core's services (a ``core.ports.ModelBackend``)."""

    def __init__(self, core: Core, remote: RemoteModels) -> None:
        self.core = core
        self.remote = remote
        self.service = RemoteService(remote)

    def models(self) -> list[ModelInfo]:
        return self.remote.models()

    def serves(self, model: str) -> bool:
        return self.remote.serves(model)

    async def start(self, req: BaseModel, call: Call) -> UpstreamRun:
        """Admit the request; a stream is opened here, so an upstream's refusal is a plain
        HTTP error rather than an error event."""
        model = str(getattr(req, "model", ""))

        async def admit() -> UpstreamRun:
            # the request's own endpoint: a Responses call goes up as the chat request it became
            remote_call = self.service.prepare(endpoint_of(req).path, req)
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
