"""Admission (rate limit + wallet) before a request runs, settlement once its usage is known.

Both steps run under one lock, so a burst of parallel requests cannot overshoot a workspace's
per-minute budget or its wallet: admission takes the request's estimate (prompt +
``max_tokens``) from the token bucket and holds its worst-case cost against the wallet;
settlement gives back the unused tokens, drops the hold and writes the usage row together with
the wallet debit (one SQLite transaction, so each request is debited exactly once).

An admission and its usage record are matched through a ``RequestScope`` in a context
variable: the HTTP middleware opens one per request (the route, its stream and the usage sink
all run inside it); a caller without one (a batch line) gets one on its first admission.
"""

from __future__ import annotations

import contextvars
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from ..core.records import Admission, UsageRecord
from ..errors import BalanceTooLowError, RateLimitExceededError
from ..ratelimit import LIMITED_USAGE_TIERS, RateLimiter, Reservation
from .caps import MonthlyCaps
from .prices import PriceTable, pico_to_usd
from .repository import UsageRepository, UsageRow

HOLD_TTL_S = 900.0  # a hold whose request never reported back stops counting after this


@dataclass(eq=False)
class Ticket:
    admission: Admission
    reservation: Reservation | None
    hold_pico: int
    expires_at: float
    done: bool = False
    capped: bool = False  # holds part of a monthly cap until settled


@dataclass
class RequestScope:
    tickets: list[Ticket] = field(default_factory=list)
    records: int = 0
    last_admission: Admission | None = None


_scope: contextvars.ContextVar[RequestScope | None] = contextvars.ContextVar(
    "tokenfactory_request_scope", default=None
)


def open_scope() -> tuple[RequestScope, contextvars.Token]:
    scope = RequestScope()
    return scope, _scope.set(scope)


def close_scope(token: contextvars.Token) -> None:
    _scope.reset(token)


def current_scope() -> RequestScope:
    scope = _scope.get()
    if scope is None:
        scope = RequestScope()
        _scope.set(scope)
    return scope


class Meter:
    def __init__(
        self,
        records: UsageRepository,
        limiter: RateLimiter,
        prices: PriceTable,
        clock: Callable[[], float] = time.time,
        caps: MonthlyCaps | None = None,
    ) -> None:
        self.records = records
        self.limiter = limiter
        self.prices = prices
        self.caps = caps
        self.clock = clock
        self._lock = threading.RLock()
        self._holds: dict[str, list[Ticket]] = {}

    # -- admission -------------------------------------------------------------------------
    async def admit(self, admission: Admission) -> dict[str, str]:
        """The gateway's admission check: 429 or 402 before anything runs, else headers."""
        return self.admit_now(admission)

    def admit_now(self, admission: Admission) -> dict[str, str]:
        scope = current_scope()
        scope.last_admission = admission
        ws = admission.principal.workspace
        with self._lock:
            reservation = None
            if admission.tier in LIMITED_USAGE_TIERS:
                reservation = self.limiter.acquire(ws.id, ws.tier, admission.estimated_tokens)
            cap = None
            try:
                if self.caps is not None:
                    cap = self.caps.admit(ws.id, ws.name, admission.estimated_tokens, self.clock())
                hold = self._hold(admission)
            except (BalanceTooLowError, RateLimitExceededError) as exc:
                if reservation is not None:
                    self.limiter.cancel(reservation)
                if cap is not None and self.caps is not None:
                    self.caps.release(ws.id, admission.estimated_tokens)
                exc.headers.update(self.limiter.headers(ws.id, ws.tier))
                raise
            ticket = Ticket(admission, reservation, hold, self.clock() + HOLD_TTL_S)
            ticket.capped = cap is not None
            scope.tickets.append(ticket)
            if hold:
                self._holds.setdefault(ws.id, []).append(ticket)
            headers = self.limiter.headers(ws.id, ws.tier)
            if cap is not None:
                headers.update(cap.headers())
            return headers

    def _hold(self, admission: Admission) -> int:
        ws = admission.principal.workspace
        available = self.records.available_pico(ws.id)
        if available is None:  # no wallet
            return 0
        estimate = self.prices.estimate_pico(
            admission.tier, admission.endpoint, admission.estimated_tokens, admission.model
        )
        held = sum(t.hold_pico for t in self._active_holds(ws.id))
        if estimate > available - held:
            raise BalanceTooLowError(
                f"Insufficient wallet balance: this request may cost up to "
                f"${pico_to_usd(estimate):.8f} ({admission.estimated_tokens} tokens at the "
                f"{admission.tier} price) but workspace '{ws.name}' has "
                f"${pico_to_usd(max(0, available - held)):.8f} available"
            )
        return estimate

    def _active_holds(self, workspace_id: str) -> list[Ticket]:
        now = self.clock()
        holds = [t for t in self._holds.get(workspace_id, []) if not t.done and t.expires_at > now]
        self._holds[workspace_id] = holds
        return holds

    # -- settlement ------------------------------------------------------------------------
    def write(self, record: UsageRecord, conn: sqlite3.Connection) -> None:
        """The core's usage ledger: settle the request's ticket and write its usage row and
        wallet debit in the caller's transaction ``conn``."""
        scope = _scope.get()
        ws_id = record.principal.workspace.id
        used = record.prompt_tokens + record.completion_tokens
        with self._lock:
            if scope is not None:
                scope.records += 1
                ticket = next(
                    (
                        t
                        for t in scope.tickets
                        if not t.done and t.admission.principal.workspace.id == ws_id
                    ),
                    None,
                )
                if ticket is not None:
                    self._close(ticket, used)
                    scope.tickets.remove(ticket)  # a long-lived scope (a runner task) stays small
            price = self.prices.price(record.tier, record.endpoint, record.model)
            cost = (
                record.prompt_tokens * price.input_pico
                + record.completion_tokens * price.output_pico
            )
            if self.caps is not None:
                self.caps.spent(ws_id, used, record.created_at)
            self.records.insert_and_debit(
                UsageRow(
                    workspace_id=ws_id,
                    key_id=record.principal.key_id,
                    request_id=record.request_id,
                    endpoint=record.endpoint,
                    model=record.model,
                    tier=record.tier,
                    prompt_tokens=record.prompt_tokens,
                    completion_tokens=record.completion_tokens,
                    cost_pico=cost,
                    latency_ms=_ms(record.latency_s),
                    ttft_ms=_ms(record.ttft_s),
                    status=record.status,
                    created_at=record.created_at,
                    input_price_pico=price.input_pico,
                    output_price_pico=price.output_pico,
                    user_id=record.user,
                ),
                conn,
            )

    def release(self, scope: RequestScope) -> None:
        """Drop what a request's unsettled admissions took (it failed before reporting usage)."""
        with self._lock:
            for ticket in scope.tickets:
                if not ticket.done:
                    self._close(ticket, 0)

    def release_current(self) -> None:
        """``release`` for the running task's scope (a batch line that ended unsettled)."""
        scope = _scope.get()
        if scope is not None:
            self.release(scope)
            scope.tickets.clear()

    def _close(self, ticket: Ticket, used_tokens: int) -> None:
        ticket.done = True
        if ticket.capped and self.caps is not None:
            self.caps.release(
                ticket.admission.principal.workspace.id, ticket.admission.estimated_tokens
            )
        if ticket.reservation is not None:
            self.limiter.settle(ticket.reservation, used_tokens)


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000.0, 3)
