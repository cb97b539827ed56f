"""Streams running now, by the request id their client gave (``X-Request-ID``).

Another client may stop one (``POST /v1/requests/{id}/cancel``): the Playground's Stop reaches
the gateway through the Jupyter server while the kernel that reads the stream is busy running
a cell. The stream ends after the token it is sending (the engine request is aborted) and
closes normally, with no finish reason. Only the workspace that started a request, or an
admin key, can stop it; any other sees a 404.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from ..store import Principal


@dataclass
class Running:
    workspace_id: str
    stop: asyncio.Event = field(default_factory=asyncio.Event)


class InFlight:
    def __init__(self) -> None:
        self._running: dict[str, Running] = {}

    def enter(self, request_id: str | None, principal: Principal) -> asyncio.Event:
        """Register a stream; the event is set when someone asks it to stop."""
        running = Running(principal.workspace.id)
        if request_id:
            self._running[request_id] = running
        return running.stop

    def leave(self, request_id: str | None, stop: asyncio.Event) -> None:
        running = self._running.get(request_id or "")
        if running is not None and running.stop is stop:
            del self._running[request_id or ""]

    def cancel(self, request_id: str, principal: Principal) -> bool:
        """Ask the stream ``request_id`` to stop; False when none of the caller's is running."""
        running = self._running.get(request_id)
        if running is None:
            return False
        if running.workspace_id != principal.workspace.id and not principal.is_admin:
            return False
        running.stop.set()
        return True

    def __len__(self) -> int:
        return len(self._running)
