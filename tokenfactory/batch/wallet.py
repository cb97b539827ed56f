"""A batch whose estimated cost the workspace's wallet cannot cover is refused (402) at upload,
and one whose estimated tokens exceed what the workspace's monthly cap has left (429).

The estimate is an upper bound per line: its text at ~3 characters a token plus its
``max_tokens`` (the API default when absent), priced at the batch tier. Lines are still
debited one by one as they finish; this only stops a job that could never be paid for.
"""

from __future__ import annotations

import json
import time
from typing import Any

from ..core import Core
from ..errors import BalanceTooLowError, RateLimitExceededError
from ..services.sampling import DEFAULT_MAX_TOKENS
from ..store import Principal
from .validation import BatchLine


def estimated_tokens(body: dict[str, Any]) -> int:
    text = json.dumps(body.get("messages") or body.get("prompt") or body.get("input") or "")
    output = body.get("max_completion_tokens") or body.get("max_tokens")
    if "input" in body and "messages" not in body and "prompt" not in body:
        output = 0  # embeddings produce no tokens
    return len(text) // 3 + 1 + (DEFAULT_MAX_TOKENS if output is None else int(output))


def check_wallet(core: Core, principal: Principal, sla: str, lines: list[BatchLine]) -> None:
    check_monthly_cap(core, principal, lines)
    records, prices = core.usage, core.prices
    if records is None or prices is None:
        return
    available = records.available_pico(principal.workspace.id)
    if available is None:  # no wallet
        return
    tier = f"batch_{sla}"
    cost = sum(
        prices.estimate_pico(tier, line.url, estimated_tokens(line.body), line.body.get("model"))
        for line in lines
    )
    if cost > available:
        raise BalanceTooLowError(
            f"Insufficient wallet balance: this batch of {len(lines)} requests may cost up to "
            f"${cost / 1e12:.6f} at the {tier} price, but workspace "
            f"'{principal.workspace.name}' has ${max(available, 0) / 1e12:.6f}"
        )


def check_monthly_cap(core: Core, principal: Principal, lines: list[BatchLine]) -> None:
    caps = getattr(core.meter, "caps", None)
    status = caps.status(principal.workspace.id, time.time()) if caps is not None else None
    if status is None:
        return
    tokens = sum(estimated_tokens(line.body) for line in lines)
    if tokens > status.remaining:
        raise RateLimitExceededError(
            f"This batch of {len(lines)} requests may use up to {tokens} tokens, but workspace "
            f"'{principal.workspace.name}' has {status.remaining} of its {status.tokens} monthly "
            "tokens left",
            code="monthly_cap_exceeded",
            headers={"Retry-After": str(max(1, int(status.resets_at - time.time())))},
        )
