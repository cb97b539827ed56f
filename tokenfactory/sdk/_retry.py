"""When to retry a request, and how long to wait first.

Retried: 408, 409, 429, every 5xx, connection errors and timeouts (an ``x-should-retry``
header overrides the status rule). Never retried: other 4xx such as 400, 401, 402, 404.
The wait honours ``retry-after-ms``, ``Retry-After`` (seconds or an HTTP date) and
``X-RateLimit-Reset`` (a Unix time, or seconds when small); otherwise it backs off
exponentially with jitter. ``sleep``, ``clock`` and ``random`` are injectable so tests never sleep.
"""

from __future__ import annotations

import asyncio
import email.utils
import random as _random
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field

from ._errors import APIConnectionError, APIError, APIStatusError

INITIAL_DELAY = 0.5
MAX_DELAY = 8.0
MAX_SERVER_DELAY = 60.0
_RETRIED_STATUSES = frozenset({408, 409, 429})
_EPOCH_THRESHOLD = 1_000_000_000  # an X-RateLimit-Reset above this is a Unix time


@dataclass
class RetryPolicy:
    max_retries: int = 2
    initial_delay: float = INITIAL_DELAY
    max_delay: float = MAX_DELAY
    max_server_delay: float = MAX_SERVER_DELAY
    sleep: Callable[[float], None] = time.sleep
    async_sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    clock: Callable[[], float] = time.time
    random: Callable[[], float] = field(default=_random.random)

    def next_delay(self, error: APIError, retries_done: int, max_retries: int) -> float | None:
        """Seconds to wait before retrying after ``error``, or None to give up."""
        if retries_done >= max_retries or not should_retry(error):
            return None
        headers = (
            error.response.headers if isinstance(error, APIStatusError) and error.response else {}
        )
        server_delay = self.server_delay(headers)
        if server_delay is not None:
            return server_delay
        return self.backoff(retries_done)

    def backoff(self, retries_done: int) -> float:
        delay = min(self.initial_delay * 2.0 ** min(retries_done, 30), self.max_delay)
        return delay * (1 - 0.25 * self.random())

    def server_delay(self, headers: Mapping[str, str]) -> float | None:
        """The wait the server asked for, if it asked for a sensible one."""
        delay = _retry_after(headers, self.clock)
        if delay is None:
            delay = _rate_limit_reset(headers, self.clock)
        if delay is None or delay < 0 or delay > self.max_server_delay:
            return None
        return delay


def should_retry(error: APIError) -> bool:
    if isinstance(error, APIConnectionError):  # includes APITimeoutError
        return True
    if not isinstance(error, APIStatusError):
        return False
    override: str | None = None
    if error.response is not None:
        override = error.response.headers.get("x-should-retry")
    if override in ("true", "false"):
        return override == "true"
    return error.status_code in _RETRIED_STATUSES or error.status_code >= 500


def _retry_after(headers: Mapping[str, str], clock: Callable[[], float]) -> float | None:
    millis = headers.get("retry-after-ms")
    if millis is not None:
        try:
            return float(millis) / 1000
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        pass
    parsed = email.utils.parsedate_tz(value)
    if parsed is None:
        return None
    return email.utils.mktime_tz(parsed) - clock()


def _rate_limit_reset(headers: Mapping[str, str], clock: Callable[[], float]) -> float | None:
    value = headers.get("x-ratelimit-reset")
    if value is None:
        return None
    try:
        reset = float(value)
    except ValueError:
        return None
    return reset - clock() if reset > _EPOCH_THRESHOLD else reset
