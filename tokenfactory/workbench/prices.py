"""The gateway's prices per tier (``GET /v1/prices``), and what tokens cost at a tier."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tokenfactory.sdk import TokenFactory

Prices = dict[str, dict[str, float]]  # tier -> {"input", "output"} USD per 1M tokens
TIERS = ("realtime", "batch_1h", "batch_24h")


def fetch_prices(client: TokenFactory) -> Prices | None:
    """The price table, or None from a gateway that does not publish one."""
    from tokenfactory.sdk import NotFoundError

    try:
        return client.prices()
    except NotFoundError:
        return None


def cost_usd(
    prices: Prices | None, tier: str, prompt_tokens: float | None, completion_tokens: float | None
) -> float | None:
    if prices is None or prompt_tokens is None:
        return None
    price = prices.get(tier) or prices.get("realtime")
    if price is None:
        return None
    return (
        float(prompt_tokens) * price["input"] + float(completion_tokens or 0) * price["output"]
    ) / 1e6


def tier_of(interactive: bool, sla: str) -> str:
    return "realtime" if interactive else f"batch_{sla}"
