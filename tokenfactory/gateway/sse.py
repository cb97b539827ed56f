"""Server-sent events in the OpenAI shape: ``data: {json}`` lines ending with ``data: [DONE]``."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator

from pydantic import BaseModel

from ..errors import InternalError, ServiceError
from ..wire.events import event

log = logging.getLogger("tokenfactory.gateway")


async def sse_events(chunks: AsyncIterator[BaseModel | bytes]) -> AsyncIterator[bytes]:
    """Encode chunks (bytes are events encoded already); an error after the stream started
    becomes an error event, then [DONE]."""
    try:
        async for chunk in chunks:
            yield chunk if isinstance(chunk, bytes) else event(chunk)
    except ServiceError as exc:
        yield b"data: " + json.dumps(exc.to_dict()).encode() + b"\n\n"
    except Exception:
        log.exception("error while streaming")
        err = InternalError("Internal server error while streaming")
        yield b"data: " + json.dumps(err.to_dict()).encode() + b"\n\n"
    yield b"data: [DONE]\n\n"


async def typed_sse_events(events: AsyncIterator[BaseModel]) -> AsyncIterator[bytes]:
    """Server-sent events named by their ``type`` (the Responses API's ``event: response.…``
    lines, no ``[DONE]``); an error after the stream started becomes an ``error`` event."""
    sequence = 0
    try:
        async for item in events:
            kind = getattr(item, "type", None)
            if kind is None:  # a remote upstream's event as it came
                kind = getattr(item, "data", {}).get("type", "message")
            sequence = int(getattr(item, "sequence_number", sequence)) + 1
            data = item.model_dump_json(exclude_none=True).encode()
            yield b"event: " + str(kind).encode() + b"\ndata: " + data + b"\n\n"
    except ServiceError as exc:
        yield _error_event(exc, sequence)
    except Exception:
        log.exception("error while streaming")
        yield _error_event(InternalError("Internal server error while streaming"), sequence)


def _error_event(exc: ServiceError, sequence: int) -> bytes:
    error = exc.to_dict()["error"]
    event = {**error, "type": "error", "sequence_number": sequence, "error": error}
    return b"event: error\ndata: " + json.dumps(event).encode() + b"\n\n"
