"""Requests in flight: cancelled when their client leaves, drained when the server stops.

Each request's app runs in a task of its own, so that:

- an inference request (chat, completions, embeddings, responses) whose client hangs up is
  cancelled, its queued and running generations with it (the engine aborts them); a
  non-streamed one too, which nothing else would notice until it finished. Its usage counts
  what ran.
- on shutdown (:meth:`Drain.begin`), requests already running may finish for ``drain_s``
  seconds; new ones are answered 503. Once that time is up, what still runs is cut: a stream
  ends with an error event in the API's error shape (then ``[DONE]``), a request not answered
  yet gets a 503 in that shape. :meth:`Drain.report` says what was cut.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass, field

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..errors import UnavailableError
from .limits import refusal

log = logging.getLogger("tokenfactory.gateway")

#: paths whose work is cancelled when the client leaves (an inference run holds the engine)
CANCEL_ON_DISCONNECT = frozenset(
    {"/v1/chat/completions", "/v1/completions", "/v1/embeddings", "/v1/responses"}
)


def shutting_down() -> UnavailableError:
    return UnavailableError(
        "The server is shutting down; retry on another one or once it is back",
        code="shutting_down",
    )


@dataclass(eq=False)
class InFlight:
    """One request being served."""

    task: asyncio.Task
    cut: bool = False

    def cut_now(self) -> None:
        self.cut = True
        self.task.cancel()


@dataclass
class Drain:
    """The shutdown of one app: which requests run, and what the drain did to them."""

    running: set[InFlight] = field(default_factory=set)
    draining: bool = False
    finished: int = 0  # requests that ended by themselves while draining
    refused: int = 0  # new requests answered 503 while draining
    cut_streams: int = 0  # streams ended with an error event
    cut_requests: int = 0  # requests answered 503 after the drain time

    def begin(self, drain_s: float) -> None:
        """Start draining (on the server's loop): cut whatever still runs after ``drain_s``."""
        if self.draining:
            return
        self.draining = True
        if self.running:
            log.warning(
                "shutting down: %d request(s) in flight get up to %g s to finish",
                len(self.running),
                drain_s,
            )
        asyncio.get_running_loop().call_later(drain_s, self.cut_all)

    def cut_all(self) -> None:
        for request in list(self.running):
            request.cut_now()

    @property
    def cut(self) -> int:
        return self.cut_streams + self.cut_requests

    def report(self) -> str:
        return (
            f"{self.finished} request(s) finished while draining, {self.cut_streams} stream(s)"
            f" ended with an error event, {self.cut_requests} request(s) answered 503 when the"
            f" drain time was up, {self.refused} new request(s) refused"
        )


class InFlightMiddleware:
    def __init__(self, app: ASGIApp, drain: Drain) -> None:
        self.app = app
        self.drain = drain

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        drain = self.drain
        if drain.draining:
            drain.refused += 1
            for message in refusal(shutting_down()):
                await send(message)
            return
        watch = scope["path"] in CANCEL_ON_DISCONNECT
        left = asyncio.Event()  # the client went away
        watcher: asyncio.Task | None = None
        started = ended = stream = False

        async def app_receive() -> Message:
            nonlocal watcher
            if watcher is not None:  # it owns the connection's receive once the body is read
                await left.wait()
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.disconnect":
                left.set()
            elif watch and not message.get("more_body", False):
                watcher = asyncio.create_task(_watch(receive, left))
            return message

        async def app_send(message: Message) -> None:
            nonlocal started, ended, stream
            if message["type"] == "http.response.start":
                started = True
                stream = any(
                    k.lower() == b"content-type" and v.startswith(b"text/event-stream")
                    for k, v in message.get("headers", [])
                )
            elif message["type"] == "http.response.body" and not message.get("more_body"):
                ended = True
            await send(message)

        async def run_app() -> None:
            await self.app(scope, app_receive, app_send)

        task = asyncio.create_task(run_app())
        request = InFlight(task)
        drain.running.add(request)
        try:
            await _until_done_or_gone(task, left, watch)
        except asyncio.CancelledError:
            if not (request.cut or left.is_set()):
                raise  # this request itself was cancelled (the server gave up on it)
        finally:
            drain.running.discard(request)
            if watcher is not None:
                watcher.cancel()
        if not request.cut:
            if drain.draining:
                drain.finished += 1
            return
        if ended or left.is_set():
            return
        if not started:
            drain.cut_requests += 1
            for message in refusal(shutting_down()):
                await send(message)
        elif stream:
            drain.cut_streams += 1
            event = b"data: " + json.dumps(shutting_down().to_dict()).encode() + b"\n\n"
            await send({"type": "http.response.body", "body": event, "more_body": True})
            await send({"type": "http.response.body", "body": b"data: [DONE]\n\n"})
        else:
            await send({"type": "http.response.body", "body": b"", "more_body": False})


async def _watch(receive: Receive, left: asyncio.Event) -> None:
    """After the whole body, the next message on the connection says it closed."""
    message = await receive()
    if message["type"] == "http.disconnect":
        left.set()


async def _until_done_or_gone(task: asyncio.Task, left: asyncio.Event, watch: bool) -> None:
    """Wait for the app; on a watched path, cancel it if its client leaves first."""
    if watch:
        gone = asyncio.create_task(left.wait())
        try:
            await asyncio.wait({task, gone}, return_when=asyncio.FIRST_COMPLETED)
        except asyncio.CancelledError:
            task.cancel()
            raise
        finally:
            gone.cancel()
        if not task.done():
            task.cancel()
    await task
