"""The replicas of one model: least-outstanding-requests routing, a per-replica cap, and one
retry on another replica for a request that failed before anything was streamed.

A replica that drops a connection is ejected at once; the health checker re-admits it when it
answers again. A 503 moves the request on but does not eject (the replica may be busy).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import logging
import time
from collections.abc import AsyncIterator, Sequence
from typing import Any

import httpx

from ..errors import ServiceError
from .errors import NoUpstreamAvailable, UpstreamFailed, UpstreamStreamBroken, error_for_status
from .replica import Replica

log = logging.getLogger("tokenfactory.remote")

#: Failures after which nothing reached the upstream's model, or the reply was lost before we
#: passed any of it on: safe to send again elsewhere.
RETRYABLE = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.RemoteProtocolError,
    httpx.ReadError,
    httpx.WriteError,
)
QUEUE_TIMEOUT_S = 60.0  # how long a request waits for a replica below its cap


class _Retry(Exception):
    """This attempt failed in a way another replica may not."""

    def __init__(self, error: ServiceError) -> None:
        self.error = error


class ReplicaPool:
    def __init__(self, model: str, replicas: list[Replica], adapter: bool = False) -> None:
        self.model = model
        self.replicas = replicas
        self.adapter = adapter  # a LoRA adapter's pool: the model name is sent as it is
        self._waiters: collections.deque[asyncio.Future] = collections.deque()

    # -- choosing a replica ----------------------------------------------------------------
    def routable(self, exclude: Sequence[Replica] = ()) -> list[Replica]:
        return [r for r in self.replicas if r.routable and r not in exclude]

    def _pick(self, exclude: Sequence[Replica]) -> Replica | None:
        room = [r for r in self.routable(exclude) if r.has_room]
        return min(room, key=lambda r: (r.outstanding, r.served)) if room else None

    async def acquire(self, exclude: Sequence[Replica] = ()) -> Replica:
        deadline = time.monotonic() + QUEUE_TIMEOUT_S
        while True:
            if not self.routable(exclude):
                raise NoUpstreamAvailable(self._unavailable_message(exclude))
            replica = self._pick(exclude)
            if replica is not None:
                replica.outstanding += 1
                return replica
            left = deadline - time.monotonic()
            if left <= 0:
                raise NoUpstreamAvailable(
                    f"Every replica of '{self.model}' is at its concurrency cap; retry shortly"
                )
            waiter = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(waiter, min(left, 1.0))

    def release(self, replica: Replica) -> None:
        replica.outstanding -= 1
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                break

    def _unavailable_message(self, exclude: Sequence[Replica]) -> str:
        errors = "; ".join(
            f"{r.url}: {r.state}" + (f" ({r.last_error})" if r.last_error else "")
            for r in self.replicas
        )
        return f"No healthy upstream for model '{self.model}' ({errors})"

    def _failed(self, replica: Replica, exc: Exception) -> None:
        replica.failures += 1
        message = f"{type(exc).__name__}: {exc}"
        replica.set_state("ejected", message)
        log.warning("upstream %s ejected: %s", replica.url, message)

    # -- requests --------------------------------------------------------------------------
    def _body_for(self, replica: Replica, body: dict[str, Any]) -> dict[str, Any]:
        model = replica.spec.upstream_model
        if self.adapter or body.get("model") == model:
            return body
        return {**body, "model": model}

    async def _attempts(self, attempt):
        """Run ``attempt(replica)``; on ``_Retry`` run it once more on another replica."""
        tried: list[Replica] = []
        while True:
            replica = await self.acquire(tried)
            try:
                return await attempt(replica)
            except _Retry as retry:
                tried.append(replica)
                if len(tried) > 1 or not self.routable(tried):
                    raise retry.error from None
                replica.retried_away += 1
                log.info("retrying a request for %s on another replica", self.model)

    async def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """POST a JSON request; the upstream's JSON answer."""

        async def attempt(replica: Replica) -> dict[str, Any]:
            try:
                resp = await replica.client.post(path, json=self._body_for(replica, body))
            except RETRYABLE as exc:
                self._failed(replica, exc)
                raise _Retry(NoUpstreamAvailable(f"Upstream {replica.url} failed: {exc}")) from exc
            except httpx.HTTPError as exc:
                replica.failures += 1
                raise UpstreamFailed(f"Upstream {replica.url} failed: {exc!r}") from exc
            finally:
                self.release(replica)
            replica.served += 1
            if resp.status_code == 503:
                raise _Retry(error_for_status(503, resp.content, replica.url, path))
            if resp.status_code >= 400:
                raise error_for_status(resp.status_code, resp.content, replica.url, path)
            try:
                return resp.json()
            except ValueError as exc:
                raise UpstreamFailed(f"Upstream {replica.url} sent invalid JSON") from exc

        return await self._attempts(attempt)

    async def stream(self, path: str, body: dict[str, Any]) -> UpstreamStream:
        """Open an SSE stream and read its first event; retried like ``post`` until then."""

        async def attempt(replica: Replica) -> UpstreamStream:
            resp: httpx.Response | None = None
            try:
                request = replica.client.build_request(
                    "POST", path, json=self._body_for(replica, body)
                )
                resp = await replica.client.send(request, stream=True)
                if resp.status_code != 200:
                    content = await resp.aread()
                    replica.served += 1
                    error = error_for_status(resp.status_code, content, replica.url, path)
                    raise _Retry(error) if resp.status_code == 503 else error
                events = _sse_data(resp)
                first = await events.__anext__()
            except RETRYABLE as exc:
                await _close(resp)
                self.release(replica)
                self._failed(replica, exc)
                raise _Retry(NoUpstreamAvailable(f"Upstream {replica.url} failed: {exc}")) from exc
            except StopAsyncIteration:
                await _close(resp)
                self.release(replica)
                raise _Retry(
                    UpstreamFailed(f"Upstream {replica.url} sent an empty stream")
                ) from None
            except BaseException:
                await _close(resp)
                self.release(replica)
                raise
            replica.served += 1
            return UpstreamStream(self, replica, resp, events, first)

        return await self._attempts(attempt)


class UpstreamStream:
    """The events of an opened upstream stream (parsed JSON), first one already read.

    A failure after the first event is never retried: it ends the stream with
    ``UpstreamStreamBroken``, which the gateway sends to the client as an error event.
    """

    def __init__(self, pool, replica, response, events, first) -> None:
        self.pool = pool
        self.replica = replica
        self._response = response
        self._events = events
        self.first = first
        self._released = False

    async def __aiter__(self) -> AsyncIterator[dict[str, Any]]:
        try:
            _raise_if_error(self.first, self.replica)
            yield self.first
            while True:
                try:
                    event = await self._events.__anext__()
                except StopAsyncIteration:
                    return
                except httpx.HTTPError as exc:
                    self.pool._failed(self.replica, exc)
                    raise UpstreamStreamBroken(
                        f"The upstream {self.replica.url} broke off the stream ({exc}); "
                        "the response is incomplete and was not restarted"
                    ) from exc
                _raise_if_error(event, self.replica)
                yield event
        finally:
            await self.close()

    async def close(self) -> None:
        if not self._released:
            self._released = True
            self.pool.release(self.replica)
            await _close(self._response)

    def __del__(self) -> None:
        # opened but never read (the client left before the response started): give the
        # replica's slot back; the connection itself is dropped with the response object
        if not self._released:
            self._released = True
            self.pool.release(self.replica)


def _raise_if_error(event: dict[str, Any], replica: Replica) -> None:
    if "error" in event and not event.get("choices"):
        status = event["error"].get("code") if isinstance(event["error"], dict) else None
        raise error_for_status(
            status if isinstance(status, int) and status >= 400 else 500,
            json.dumps(event).encode(),
            replica.url,
        )


async def _sse_data(resp: httpx.Response) -> AsyncIterator[dict[str, Any]]:
    """The JSON payloads of ``data:`` lines up to ``[DONE]``; a stream cut short raises."""
    async for line in resp.aiter_lines():
        if not line.startswith("data:"):
            continue
        payload = line[5:].strip()
        if payload == "[DONE]":
            return
        try:
            yield json.loads(payload)
        except ValueError as exc:
            raise httpx.RemoteProtocolError(f"bad SSE payload: {payload[:200]}") from exc
    raise httpx.RemoteProtocolError("the stream ended without [DONE]")


async def _close(resp: httpx.Response | None) -> None:
    if resp is not None:
        # closing a broken connection must not mask the real error
        with contextlib.suppress(Exception):
            await resp.aclose()
