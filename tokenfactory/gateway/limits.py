"""What one client may send: a body cap per endpoint and deadlines for headers and bodies.

Checked outside the app, before anything reads the body or authenticates the caller:

- a ``Content-Length`` past the endpoint's cap is answered 413 at once, nothing read;
- a body without a length (chunked) is read up to its cap, then answered 413;
- the whole body must arrive within ``body_timeout_s`` of the request's start, else 408 (a client
  trickling its body is dropped), and the request line and headers within ``header_timeout_s``
  of the connection's first byte (``tokenfactory.gateway.protocol``).

Both answers close the connection. The caps (``DEFAULT_CAPS``) are overridden by
``$TOKENFACTORY_MAX_BODY``: comma-separated ``PATH=SIZE`` pairs, ``PATH`` a route path (``*``
wildcards allowed; ``*`` alone for every other path), ``SIZE`` in bytes or with a unit (``KB``,
``MB``, ``GB``, ``KiB``, ``MiB``, ``GiB``): ``/v1/embeddings=8MiB,*=512KiB``. The deadlines:
``$TOKENFACTORY_BODY_TIMEOUT_S`` and ``$TOKENFACTORY_HEADER_TIMEOUT_S``.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
from dataclasses import dataclass, field
from fnmatch import fnmatchcase

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..errors import PayloadTooLargeError, RequestTimeoutError, ServiceError

MIB = 1024 * 1024
#: path pattern -> the largest body it accepts, in bytes (first match wins; ``*`` last)
DEFAULT_CAPS: dict[str, int] = {
    "/v1/chat/completions": 32 * MIB,
    "/v1/completions": 32 * MIB,
    "/v1/embeddings": 32 * MIB,
    "/v1/batch": 101 * MIB,  # a batch file (100 MiB, TOKENFACTORY_BATCH_MAX_BYTES) + the form
    "/v1/files": 101 * MIB,
    "/v1/adapters/*/training_data": 101 * MIB,
    "/v1/adapters/*/validation_data": 101 * MIB,
    "*": 1 * MIB,
}
BODY_TIMEOUT_S = 120.0
HEADER_TIMEOUT_S = 15.0
UNITS = {"": 1, "b": 1, "kb": 1000, "mb": 1000**2, "gb": 1000**3}
UNITS.update({"kib": 1024, "mib": MIB, "gib": 1024 * MIB})


def parse_size(text: str) -> int:
    found = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*", text)
    if found is None or found.group(2).lower() not in UNITS:
        raise ValueError(f"not a size: {text!r} (bytes, or a number with KB/MB/GB/KiB/MiB/GiB)")
    return int(float(found.group(1)) * UNITS[found.group(2).lower()])


def parse_caps(text: str) -> dict[str, int]:
    caps = {}
    for pair in filter(None, (p.strip() for p in text.split(","))):
        path, sep, size = pair.partition("=")
        if not sep or not path.strip():
            raise ValueError(f"expected PATH=SIZE, got {pair!r}")
        caps[path.strip()] = parse_size(size)
    return caps


@dataclass(frozen=True)
class RequestLimits:
    caps: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_CAPS))
    body_timeout_s: float = BODY_TIMEOUT_S
    header_timeout_s: float = HEADER_TIMEOUT_S

    @classmethod
    def from_env(cls) -> RequestLimits:
        theirs = parse_caps(os.environ.get("TOKENFACTORY_MAX_BODY", ""))
        caps = {**theirs, **{k: v for k, v in DEFAULT_CAPS.items() if k not in theirs}}
        body = os.environ.get("TOKENFACTORY_BODY_TIMEOUT_S")
        header = os.environ.get("TOKENFACTORY_HEADER_TIMEOUT_S")
        return cls(
            caps,
            float(body) if body else BODY_TIMEOUT_S,
            float(header) if header else HEADER_TIMEOUT_S,
        )

    def cap_for(self, path: str) -> int:
        if path in self.caps:
            return self.caps[path]
        for pattern, cap in self.caps.items():
            if pattern != "*" and fnmatchcase(path, pattern):
                return cap
        return self.caps.get("*", DEFAULT_CAPS["*"])


def refusal(exc: ServiceError) -> tuple[Message, Message]:
    """The response messages of an error in the API's shape; the connection is closed after."""
    body = json.dumps(exc.to_dict()).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
    ]
    start = {"type": "http.response.start", "status": exc.status_code, "headers": headers}
    return start, {"type": "http.response.body", "body": body, "more_body": False}


def too_large(cap: int, path: str) -> PayloadTooLargeError:
    return PayloadTooLargeError(
        f"The request body is larger than {cap} bytes, the limit of {path} on this gateway"
        " (TOKENFACTORY_MAX_BODY sets it)"
    )


class BodyLimitMiddleware:
    """Enforces :class:`RequestLimits` on each request's body (see the module docstring).

    A body cut short is shown to the app as a client that left; whatever the app answers to
    that is dropped and the 413/408 is sent instead.
    """

    def __init__(self, app: ASGIApp, limits: RequestLimits) -> None:
        self.app = app
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        cap = self.limits.cap_for(path)
        length, chunked = _body_headers(scope)
        if length is not None and length > cap:
            for message in refusal(too_large(cap, path)):
                await send(message)
            return
        if not chunked and not length:  # no body to guard (a GET)
            await self.app(scope, receive, send)
            return
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.limits.body_timeout_s
        received = 0
        body_done = False
        refused: ServiceError | None = None
        started = False

        async def guarded_receive() -> Message:
            nonlocal received, body_done, refused
            if body_done:
                return await receive()
            if refused is not None:
                return {"type": "http.disconnect"}
            try:
                message = await asyncio.wait_for(receive(), max(0.0, deadline - loop.time()))
            except asyncio.TimeoutError:
                refused = RequestTimeoutError(
                    f"The request body did not arrive within {self.limits.body_timeout_s:g} s"
                )
                return {"type": "http.disconnect"}
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > cap:
                    refused = too_large(cap, path)
                    return {"type": "http.disconnect"}
                body_done = not message.get("more_body", False)
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if refused is not None:
                return  # the app's answer to a body it never got whole
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, guarded_receive, guarded_send)
        finally:
            if refused is not None and not started:
                for message in refusal(refused):
                    await send(message)


def _body_headers(scope: Scope) -> tuple[int | None, bool]:
    """``(Content-Length, chunked)`` of the request (the HTTP parser refused a malformed
    length already)."""
    length = None
    chunked = False
    for name, value in scope["headers"]:
        if name == b"content-length" and value.strip().isdigit():
            length = int(value)
        elif name == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
    return length, chunked
