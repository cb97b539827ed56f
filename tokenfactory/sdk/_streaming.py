"""Server-sent events: a byte-level decoder and the Stream / AsyncStream iterators.

The decoder accepts chunks split anywhere (mid-line, mid-UTF-8 character, between ``\\r`` and
``\\n``). A stream ends at ``data: [DONE]``; an ``{"error": {...}}`` event raises the matching
``APIStatusError``. Streams are context managers and close the HTTP connection on early exit.
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import httpx
from typing_extensions import Self

from ._errors import error_from_event

T = TypeVar("T")
DONE = "[DONE]"
_LINE_BREAK = re.compile(r"\r\n|\r|\n")  # SSE line ends; not str.splitlines()


@dataclass(frozen=True)
class ServerSentEvent:
    data: str
    event: str | None = None
    id: str | None = None
    retry: int | None = None

    def json(self) -> Any:  # any JSON value
        return json.loads(self.data)


class SSEDecoder:
    """Feed bytes, get complete events; ``flush()`` at end of input."""

    def __init__(self) -> None:
        self._text = codecs.getincrementaldecoder("utf-8")()
        self._pending = ""  # text after the last line break seen
        self._reset()

    def _reset(self) -> None:
        self._data: list[str] = []
        self._event: str | None = None
        self._id: str | None = None
        self._retry: int | None = None

    def feed(self, chunk: bytes) -> list[ServerSentEvent]:
        return self._lines(self._text.decode(chunk))

    def flush(self) -> list[ServerSentEvent]:
        text = self._text.decode(b"", final=True) + "\n\n"
        return self._lines(text)

    def _lines(self, text: str) -> list[ServerSentEvent]:
        text = self._pending + text
        # a trailing "\r" may be the first half of "\r\n": keep it for the next chunk
        cut = len(text) - 1 if text.endswith("\r") else len(text)
        lines = _LINE_BREAK.split(text[:cut])
        self._pending = lines.pop() + text[cut:]  # the unterminated rest
        events = []
        for line in lines:
            event = self._line(line)
            if event is not None:
                events.append(event)
        return events

    def _line(self, line: str) -> ServerSentEvent | None:
        if not line:
            if not self._data and self._event is None:
                return None
            event = ServerSentEvent("\n".join(self._data), self._event, self._id, self._retry)
            self._reset()
            return event
        if line.startswith(":"):
            return None
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._event = value
        elif name == "id" and "\0" not in value:
            self._id = value
        elif name == "retry" and value.isdigit():
            self._retry = int(value)
        return None


def iter_events(chunks: Iterable[bytes]) -> Iterator[ServerSentEvent]:
    decoder = SSEDecoder()
    for chunk in chunks:
        yield from decoder.feed(chunk)
    yield from decoder.flush()


async def aiter_events(chunks: AsyncIterator[bytes]) -> AsyncIterator[ServerSentEvent]:
    decoder = SSEDecoder()
    async for chunk in chunks:
        for event in decoder.feed(chunk):
            yield event
    for event in decoder.flush():
        yield event


class _StreamBase(Generic[T]):
    def __init__(self, response: httpx.Response, parse: Callable[[object], T]) -> None:
        self.response = response
        self._parse = parse  # one event's JSON -> T

    @property
    def request_id(self) -> str | None:
        request_id: str | None = self.response.headers.get("x-request-id")
        return request_id

    def _item(self, event: ServerSentEvent) -> T | None:
        """The parsed chunk, None to skip, or raises for an error event; DONE handled by caller."""
        if not event.data:
            return None
        payload = event.json()
        if isinstance(payload, dict) and "error" in payload:
            raise error_from_event(payload, self.response)
        return self._parse(payload)


class Stream(_StreamBase[T]):
    """Iterate parsed chunks; use ``with`` (or ``close()``) when stopping early."""

    def __iter__(self) -> Iterator[T]:
        try:
            for event in iter_events(self.response.iter_bytes()):
                if event.data == DONE:
                    break
                item = self._item(event)
                if item is not None:
                    yield item
        finally:
            self.close()

    def close(self) -> None:
        self.response.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AsyncStream(_StreamBase[T]):
    """``async for`` parsed chunks; ``async with`` it (or ``await close()``) to stop early."""

    def __aiter__(self) -> AsyncIterator[T]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[T]:
        try:
            async for event in aiter_events(self.response.aiter_bytes()):
                if event.data == DONE:
                    break
                item = self._item(event)
                if item is not None:
                    yield item
        finally:
            await self.close()

    async def close(self) -> None:
        await self.response.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
