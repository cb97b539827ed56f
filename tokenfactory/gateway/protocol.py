"""uvicorn's HTTP protocol with a header deadline: a connection that has not sent a whole
request line and headers within ``header_timeout_s`` (of connecting, or of its previous
response) is closed. uvicorn has a keep-alive timeout but none for a request in progress, so
a client trickling its headers would hold its connection forever."""

from __future__ import annotations

import asyncio
from asyncio import TimerHandle
from typing import Any

try:
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
except ImportError:  # no httptools: uvicorn's pure-Python h11 protocol, no header deadline
    HttpToolsProtocol = None  # type: ignore[assignment,misc]


def protocol_with_header_timeout(header_timeout_s: float) -> Any:
    """The protocol class for ``uvicorn.Config(http=...)``; ``"auto"`` without httptools."""
    if HttpToolsProtocol is None:
        return "auto"

    class HeaderTimeoutProtocol(HttpToolsProtocol):
        _header_timer: TimerHandle | None = None

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._arm_header_timer()

        def on_response_complete(self) -> None:
            super().on_response_complete()
            self._arm_header_timer()

        def on_headers_complete(self) -> None:
            self._disarm_header_timer()
            super().on_headers_complete()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm_header_timer()
            super().connection_lost(exc)

        def _arm_header_timer(self) -> None:
            self._disarm_header_timer()
            if not self.transport.is_closing():
                self._header_timer = self.loop.call_later(header_timeout_s, self._headers_late)

        def _disarm_header_timer(self) -> None:
            if self._header_timer is not None:
                self._header_timer.cancel()
                self._header_timer = None

        def _headers_late(self) -> None:
            self._header_timer = None
            if self.cycle is None or self.cycle.response_complete:  # no request is being served
                self.transport.close()

    return HeaderTimeoutProtocol
