"""The delivery loop: sends due webhook deliveries, retrying with exponential back-off.

At least once: a delivery is marked ``delivered`` only after the receiver answered 2xx, so a
gateway killed mid-send sends it again after a restart (receivers deduplicate by the stable
``webhook-id``, the event's id). Retries follow the Standard Webhooks schedule (5 s, 5 min,
30 min, 2 h, 5 h, 10 h, 10 h, ...) until 24 h after the event; then the delivery is ``failed``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from typing import Any

from .repository import WebhookRepository
from .signing import signed_headers

log = logging.getLogger("tokenfactory.webhooks")

RETRY_DELAYS_S = (5, 5 * 60, 30 * 60, 2 * 3600, 5 * 3600, 10 * 3600)
RETRY_WINDOW_S = 24 * 3600
SEND_TIMEOUT_S = 10.0
POLL_S = 0.5
WAKE_CHECK_S = 0.05


def retry_scale() -> float:
    """``TOKENFACTORY_WEBHOOK_RETRY_SCALE`` shrinks the schedule (tests use a small one)."""
    return float(os.environ.get("TOKENFACTORY_WEBHOOK_RETRY_SCALE", "1"))


def next_delay(attempts: int, scale: float = 1.0) -> float:
    """Seconds to wait after the ``attempts``-th failed attempt."""
    return RETRY_DELAYS_S[min(attempts, len(RETRY_DELAYS_S)) - 1] * scale


class Dispatcher:
    def __init__(self, repo: WebhookRepository, scale: float | None = None) -> None:
        self.repo = repo
        self.scale = retry_scale() if scale is None else scale
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._stopping = False

    def wake(self) -> None:
        self._wake.set()

    async def start(self) -> None:
        self._wake = asyncio.Event()
        self._stopping = False
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        # A flag, not only task.cancel(): Python 3.11's wait_for can swallow a cancellation
        # that lands as its timeout fires, and the loop would run on.
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            done, _ = await asyncio.wait({self._task}, timeout=SEND_TIMEOUT_S + 1)
            if not done:
                self._task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await asyncio.wait({self._task}, timeout=5)
            self._task = None

    async def _run(self) -> None:
        import httpx

        async with httpx.AsyncClient(timeout=SEND_TIMEOUT_S, follow_redirects=False) as http:
            while not self._stopping:
                due = await asyncio.to_thread(self.repo.due, time.time())
                if due:
                    await asyncio.gather(*(self._send(http, d) for d in due))
                    continue
                self._wake.clear()
                await self._idle()

    async def _idle(self) -> None:
        """Sleep up to ``POLL_S``, waking early when an event is queued. Plain sleeps: a
        cancel (the loop shutting down) always ends them, where 3.11's ``wait_for`` can
        swallow one."""
        for _ in range(int(POLL_S / WAKE_CHECK_S)):
            if self._wake.is_set() or self._stopping:
                return
            await asyncio.sleep(WAKE_CHECK_S)

    async def _send(self, http: Any, delivery: dict[str, Any]) -> None:
        headers = signed_headers(delivery["secret"], delivery["event_id"], delivery["payload"])
        status: int | None = None
        error: str | None = None
        try:
            response = await http.post(
                delivery["url"], content=delivery["payload"], headers=headers
            )
            status = response.status_code
            if 200 <= status < 300:
                await asyncio.to_thread(
                    self.repo.record_attempt, delivery, status, None, "delivered", None
                )
                return
            error = f"HTTP {status}"
        except Exception as exc:  # a refused connection, a timeout, a bad URL
            error = f"{type(exc).__name__}: {exc}"[:500]
        attempts = delivery["attempts"] + 1
        retry_at = time.time() + next_delay(attempts, self.scale)
        window_end = delivery["created_at"] + RETRY_WINDOW_S * self.scale
        outcome, when = ("pending", retry_at) if retry_at <= window_end else ("failed", None)
        log.info(
            "webhook %s to %s: attempt %d failed (%s); %s",
            delivery["event_id"],
            delivery["url"],
            attempts,
            error,
            "retrying" if outcome == "pending" else "giving up",
        )
        await asyncio.to_thread(self.repo.record_attempt, delivery, status, error, outcome, when)
