"""Per-workspace token buckets for requests/min and tokens/min.

Each workspace has two buckets holding one minute's budget that refill continuously
(``rpm / 60`` requests and ``tpm / 60`` tokens per second). Admission takes one request and the
request's estimated tokens (prompt + ``max_tokens``) in one step under a lock, so parallel
requests cannot overshoot; settlement later gives back what the request did not use (or takes
the excess). A request that does not fit gets 429 with ``Retry-After``: the seconds until both
buckets hold enough.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from ..errors import RateLimitExceededError
from .tiers import DEFAULT_TIERS, Tier


class Bucket:
    def __init__(self, capacity: float, now: float) -> None:
        self.capacity = capacity
        self.level = capacity
        self.updated = now

    @property
    def rate(self) -> float:
        return self.capacity / 60.0

    def refill(self, now: float) -> None:
        if now > self.updated:
            self.level = min(self.capacity, self.level + (now - self.updated) * self.rate)
        self.updated = max(self.updated, now)

    def wait_for(self, amount: float) -> float:
        """Seconds until the bucket holds ``amount`` (after a refill)."""
        missing = amount - self.level
        return 0.0 if missing <= 0 else missing / self.rate

    def full_at(self, now: float) -> float:
        return now + self.wait_for(self.capacity)

    def rescale(self, capacity: float) -> None:
        """A new capacity keeps what was used this minute: the level moves by the difference."""
        self.level = min(capacity, self.level + (capacity - self.capacity))
        self.capacity = capacity


@dataclass
class WorkspaceBuckets:
    tier: Tier
    requests: Bucket | None
    tokens: Bucket | None


@dataclass
class Reservation:
    """What one admitted request took from its workspace's buckets."""

    workspace_id: str
    tier: str
    tokens: int
    settled: bool = False


class RateLimiter:
    def __init__(
        self,
        tiers: dict[str, Tier] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.tiers = dict(tiers or DEFAULT_TIERS)
        self.clock = clock
        self._lock = threading.RLock()
        self._buckets: dict[str, WorkspaceBuckets] = {}

    def tier(self, name: str) -> Tier:
        tier = self.tiers.get(name)
        if tier is None:  # an unknown tier in the store is treated as the strictest one
            return min(self.tiers.values(), key=lambda t: t.rpm or math.inf)
        return tier

    def _state(self, workspace_id: str, tier_name: str, now: float) -> WorkspaceBuckets:
        tier = self.tier(tier_name)
        state = self._buckets.get(workspace_id)
        if state is None:
            state = WorkspaceBuckets(
                tier,
                Bucket(tier.rpm, now) if tier.rpm is not None else None,
                Bucket(tier.tpm, now) if tier.tpm is not None else None,
            )
            self._buckets[workspace_id] = state
        elif state.tier != tier:  # the tier changed: what was used this minute still counts
            state.requests = _rebucket(state.requests, tier.rpm, now)
            state.tokens = _rebucket(state.tokens, tier.tpm, now)
            state.tier = tier
        for bucket in (state.requests, state.tokens):
            if bucket is not None:
                bucket.refill(now)
        return state

    # -- admission and settlement ----------------------------------------------------------
    def acquire(self, workspace_id: str, tier_name: str, tokens: int) -> Reservation:
        """Take one request and ``tokens`` tokens, or raise 429 and take nothing."""
        with self._lock:
            now = self.clock()
            state = self._state(workspace_id, tier_name, now)
            req, tok = state.requests, state.tokens
            if tok is not None and tokens > tok.capacity:
                raise RateLimitExceededError(
                    f"Request too large: it may use up to {tokens} tokens (prompt + max_tokens) "
                    f"but the '{state.tier.name}' tier allows {int(tok.capacity)} tokens per "
                    "minute; lower max_tokens or shorten the prompt",
                    code="request_too_large",
                    headers={**self._headers(state, now), "x-should-retry": "false"},
                )
            wait = max(
                req.wait_for(1) if req is not None else 0.0,
                tok.wait_for(tokens) if tok is not None else 0.0,
            )
            if wait > 0:
                which = "requests" if req is not None and req.level < 1 else "tokens"
                limit = state.tier.rpm if which == "requests" else state.tier.tpm
                headers = self._headers(state, now)
                headers["retry-after"] = str(max(1, math.ceil(wait)))
                raise RateLimitExceededError(
                    f"Rate limit reached for workspace tier '{state.tier.name}': {limit} "
                    f"{which} per minute. Retry after {headers['retry-after']} s.",
                    headers=headers,
                )
            if req is not None:
                req.level -= 1
            if tok is not None:
                tok.level -= tokens
            return Reservation(workspace_id, state.tier.name, tokens)

    def settle(self, reservation: Reservation, used_tokens: int) -> None:
        """Give back the reserved tokens the request did not use (or take the excess)."""
        with self._lock:
            if reservation.settled:
                return
            reservation.settled = True
            state = self._buckets.get(reservation.workspace_id)
            if state is None or state.tokens is None:
                return
            state.tokens.refill(self.clock())
            refund = reservation.tokens - used_tokens
            state.tokens.level = min(state.tokens.capacity, state.tokens.level + refund)

    def cancel(self, reservation: Reservation) -> None:
        """Undo an admission that did not go ahead (another check refused it)."""
        with self._lock:
            if reservation.settled:
                return
            reservation.settled = True
            state = self._buckets.get(reservation.workspace_id)
            if state is None:
                return
            if state.requests is not None:
                state.requests.level = min(state.requests.capacity, state.requests.level + 1)
            if state.tokens is not None:
                state.tokens.level = min(
                    state.tokens.capacity, state.tokens.level + reservation.tokens
                )

    # -- headers ---------------------------------------------------------------------------
    def headers(self, workspace_id: str, tier_name: str) -> dict[str, str]:
        """The ``X-RateLimit-*`` headers for a workspace, as of now."""
        with self._lock:
            now = self.clock()
            return self._headers(self._state(workspace_id, tier_name, now), now)

    def _headers(self, state: WorkspaceBuckets, now: float) -> dict[str, str]:
        req, tok = state.requests, state.tokens
        out: dict[str, str] = {}
        if req is None:
            out.update(
                {
                    "x-ratelimit-limit": "unlimited",
                    "x-ratelimit-remaining": "unlimited",
                    "x-ratelimit-reset": str(math.ceil(now)),
                }
            )
        else:
            out.update(
                {
                    "x-ratelimit-limit": str(int(req.capacity)),
                    "x-ratelimit-remaining": str(max(0, math.floor(req.level))),
                    "x-ratelimit-reset": str(math.ceil(req.full_at(now))),
                }
            )
        if tok is not None:
            out.update(
                {
                    "x-ratelimit-limit-tokens": str(int(tok.capacity)),
                    "x-ratelimit-remaining-tokens": str(max(0, math.floor(tok.level))),
                    "x-ratelimit-reset-tokens": str(math.ceil(tok.full_at(now))),
                }
            )
        return out


def _rebucket(bucket: Bucket | None, capacity: int | None, now: float) -> Bucket | None:
    if capacity is None:
        return None
    if bucket is None:
        return Bucket(capacity, now)
    bucket.refill(now)
    bucket.rescale(capacity)
    return bucket
