"""What tokens cost, per usage tier, in US dollars per million tokens.

The defaults are the published per-tier prices. Override them with ``prices.json`` in the data
directory or ``$TOKENFACTORY_PRICES`` (a JSON string or a path), e.g.
``{"realtime": {"input": 0.2, "output": 0.6}}``; tiers left out keep their defaults.

Money is kept in integer picodollars (1e-12 USD) so sums are exact: one token at $0.10 per
million is 100,000 picodollars.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from ..errors import InvalidRequestError

PICO_PER_USD = 10**12
PICO_PER_MICRO = 10**6
USAGE_TIERS = ("realtime", "batch_1h", "batch_24h", "embeddings")


@dataclass(frozen=True)
class Price:
    input: Decimal  # USD per 1M input tokens
    output: Decimal  # USD per 1M output tokens

    @property
    def input_pico(self) -> int:
        return int(self.input * 10**6)  # pico per token = USD per 1M x 1e12 / 1e6

    @property
    def output_pico(self) -> int:
        return int(self.output * 10**6)


DEFAULT_PRICES: dict[str, Price] = {
    "realtime": Price(Decimal("0.10"), Decimal("0.10")),
    "batch_1h": Price(Decimal("0.07"), Decimal("0.07")),
    "batch_24h": Price(Decimal("0.05"), Decimal("0.05")),
    "embeddings": Price(Decimal("0.02"), Decimal("0")),
}


class PriceTable:
    def __init__(self, prices: dict[str, Price] | None = None) -> None:
        self.prices = dict(DEFAULT_PRICES)
        self.prices.update(prices or {})

    @classmethod
    def from_config(cls, home: Path | None = None) -> PriceTable:
        """Defaults overlaid with ``$TOKENFACTORY_PRICES`` or ``<home>/prices.json``."""
        raw = os.environ.get("TOKENFACTORY_PRICES")
        if raw and not raw.lstrip().startswith("{"):
            raw = Path(raw).expanduser().read_text()
        elif not raw and home is not None and (home / "prices.json").is_file():
            raw = (home / "prices.json").read_text()
        return cls(parse_prices(json.loads(raw)) if raw else None)

    def price(self, tier: str, endpoint: str = "") -> Price:
        """Embedding requests are billed at the embeddings price whatever their tier."""
        if endpoint.endswith("/embeddings"):
            tier = "embeddings"
        return self.prices.get(tier, self.prices["realtime"])

    def cost_pico(self, tier: str, endpoint: str, prompt_tokens: int, output_tokens: int) -> int:
        p = self.price(tier, endpoint)
        return prompt_tokens * p.input_pico + output_tokens * p.output_pico

    def estimate_pico(self, tier: str, endpoint: str, tokens: int) -> int:
        """An upper bound for ``tokens`` tokens of which any may be input or output."""
        p = self.price(tier, endpoint)
        return tokens * max(p.input_pico, p.output_pico)

    def to_dict(self) -> dict[str, dict[str, float]]:
        return {
            tier: {"input": float(p.input), "output": float(p.output)}
            for tier, p in self.prices.items()
        }


def parse_prices(data: object) -> dict[str, Price]:
    if not isinstance(data, dict):
        raise InvalidRequestError("Prices must be a JSON object of tier -> {input, output}")
    out: dict[str, Price] = {}
    for tier, value in data.items():
        if not isinstance(value, dict):
            raise InvalidRequestError(f"Price for tier '{tier}' must be {{input, output}}")
        base = DEFAULT_PRICES.get(tier, DEFAULT_PRICES["realtime"])
        try:
            price = Price(
                Decimal(str(value.get("input", base.input))),
                Decimal(str(value.get("output", base.output))),
            )
        except ArithmeticError as exc:
            raise InvalidRequestError(f"Invalid price for tier '{tier}': {exc}") from exc
        if price.input < 0 or price.output < 0:
            raise InvalidRequestError(f"Prices must not be negative (tier '{tier}')")
        out[tier] = price
    return out


def pico_to_usd(pico: int) -> float:
    return pico / PICO_PER_USD
