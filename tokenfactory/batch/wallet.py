"""A batch whose estimated cost the workspace's wallet cannot cover is refused (402) at upload,
and one whose estimated tokens exceed what the workspace's monthly cap has left (429).

The estimate is an upper bound per line (``core.endpoints.estimated_tokens`` of its parsed
request: its text at ~3 characters a token plus its output limit), priced at the batch tier.
Lines are still debited one by one as they finish; this only stops a job that could never be
paid for.
"""

from __future__ import annotations

import time

from ..core import Core
from ..core.endpoints import estimated_tokens
from ..errors import BalanceTooLowError, RateLimitExceededError
from ..store import Principal
from ..usage.caps import MonthlyCaps
from ..usage.prices import PriceTable
from ..usage.repository import UsageRepository
from .validation import BatchLine


def check_wallet(core: Core, principal: Principal, sla: str, lines: list[BatchLine]) -> None:
    check_monthly_cap(core, principal, lines)
    records, prices = core.installed.get(UsageRepository), core.installed.get(PriceTable)
    if records is None or prices is None:
        return
    available = records.available_pico(principal.workspace.id)
    if available is None:  # no wallet
        return
    tier = f"batch_{sla}"
    cost = sum(
        prices.estimate_pico(
            tier, line.url, estimated_tokens(line.request), getattr(line.request, "model", None)
        )
        for line in lines
    )
    if cost > available:
        raise BalanceTooLowError(
            f"Insufficient wallet balance: this batch of {len(lines)} requests may cost up to "
            f"${cost / 1e12:.6f} at the {tier} price, but workspace "
            f"'{principal.workspace.name}' has ${max(available, 0) / 1e12:.6f}"
        )


def check_monthly_cap(core: Core, principal: Principal, lines: list[BatchLine]) -> None:
    caps = core.installed.get(MonthlyCaps)
    status = caps.status(principal.workspace.id, time.time()) if caps is not None else None
    if status is None:
        return
    tokens = sum(estimated_tokens(line.request) for line in lines)
    if tokens > status.remaining:
        raise RateLimitExceededError(
            f"This batch of {len(lines)} requests may use up to {tokens} tokens, but workspace "
            f"'{principal.workspace.name}' has {status.remaining} of its {status.tokens} monthly "
            "tokens left",
            code="monthly_cap_exceeded",
            headers={
                "Retry-After": str(max(1, int(status.resets_at - time.time()))),
                "x-should-retry": "false",  # not before the month turns
            },
        )
