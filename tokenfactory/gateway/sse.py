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
