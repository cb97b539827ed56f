"""A batch whose estimated cost the workspace's wallet cannot cover is refused (402) at upload,
and one whose estimated tokens exceed what the workspace's monthly cap has left (429).

The estimate per line is what admission will hold for it when it runs: its prompt counted by
the model's tokenizer (chat template included) plus its output limit; for a remote model (no
tokenizer here) or a Responses line, a bound that never undercounts
(``core.endpoints.upper_bound_tokens``: UTF-8 bytes, not characters). It is priced at the
batch tier. Lines are still admitted and debited one by one as they run; this only stops a job
that could never be paid for.
"""

from __future__ import annotations

import time

from ..core import Core
from ..core.endpoints import ENDPOINTS, upper_bound_tokens
from ..core.records import Call
from ..errors import BalanceTooLowError, RateLimitExceededError
from ..store import Principal
from ..usage.caps import CapStatus, MonthlyCaps
from ..usage.prices import PriceTable
from ..usage.repository import UsageRepository
from .validation import BatchLine


def check_wallet(core: Core, principal: Principal, sla: str, lines: list[BatchLine]) -> None:
    records, prices = core.installed.get(UsageRepository), core.installed.get(PriceTable)
    available = None
    if records is not None and prices is not None:
        available = records.available_pico(principal.workspace.id)  # None: no wallet
    caps = core.installed.get(MonthlyCaps)
    status = caps.status(principal.workspace.id, time.time()) if caps is not None else None
    if available is None and status is None:
        return  # nothing to check: no line is counted
    tier = f"batch_{sla}"
    tokens = [line_tokens(core, principal, tier, line) for line in lines]
    if status is not None:
        check_monthly_cap(principal, status, sum(tokens), len(lines))
    if available is None or prices is None:
        return
    cost = sum(
        prices.estimate_pico(tier, line.url, n, getattr(line.request, "model", None))
        for line, n in zip(lines, tokens, strict=True)
    )
    if cost > available:
        raise BalanceTooLowError(
            f"Insufficient wallet balance: this batch of {len(lines)} requests may cost up to "
            f"${cost / 1e12:.6f} at the {tier} price, but workspace "
            f"'{principal.workspace.name}' has ${max(available, 0) / 1e12:.6f}"
        )


def line_tokens(core: Core, principal: Principal, tier: str, line: BatchLine) -> int:
    """What admission will hold for this line when it runs (see the module docstring)."""
    service = core.service(ENDPOINTS[line.url])
    count = getattr(service, "admission_tokens", None)  # a Responses line has none: the bound
    if count is None:
        return upper_bound_tokens(line.request)
    return int(count(line.request, Call(principal, line.url, tier)))


def check_monthly_cap(principal: Principal, status: CapStatus, tokens: int, count: int) -> None:
    if tokens > status.remaining:
        raise RateLimitExceededError(
            f"This batch of {count} requests may use up to {tokens} tokens, but workspace "
            f"'{principal.workspace.name}' has {status.remaining} of its {status.tokens} monthly "
            "tokens left",
            code="monthly_cap_exceeded",
            headers={
                "Retry-After": str(max(1, int(status.resets_at - time.time()))),
                "x-should-retry": "false",  # not before the month turns
            },
        )
