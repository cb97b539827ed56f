"""What tokens cost, in US dollars per **million** tokens (the seeds quote per 1K in one place
and per 1M in the other; this table and every API that shows it use per 1M).

Two layers: a price per usage tier (the published real-time, batch 1h, batch 24h and embeddings
prices) and a price per model. A model with a price of its own is billed at it, with the tier's
discount on top (a batch tier costs ``tier / realtime`` of real time: 0.7x for 1h, 0.5x for
24h); a model without one is billed at its tier's price. Override the tier prices with
``prices.json`` in the data directory or ``$TOKENFACTORY_PRICES`` (a JSON string or a path),
e.g. ``{"realtime": {"input": 0.2, "output": 0.6}}``; model prices are set by the admin API or
``tokenfactory prices set`` and kept in the store (``ModelPriceRepository``).

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
MAX_PRICE_USD = Decimal(1_000_000)


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


#: the embedded default models' own prices (USD per 1M tokens)
DEFAULT_MODEL_PRICES: dict[str, Price] = {
    "HuggingFaceTB/SmolLM2-135M-Instruct": Price(Decimal("0.10"), Decimal("0.10")),
    "sentence-transformers/all-MiniLM-L6-v2": Price(Decimal("0.02"), Decimal("0")),
}


class PriceTable:
    def __init__(
        self, prices: dict[str, Price] | None = None, models: dict[str, Price] | None = None
    ) -> None:
        self.prices = dict(DEFAULT_PRICES)
        self.prices.update(prices or {})
        self.models: dict[str, Price] = dict(DEFAULT_MODEL_PRICES)
        self.models.update(models or {})

    @classmethod
    def from_config(cls, home: Path | None = None) -> PriceTable:
        """Defaults overlaid with ``$TOKENFACTORY_PRICES`` or ``<home>/prices.json``."""
        raw = os.environ.get("TOKENFACTORY_PRICES")
        if raw and not raw.lstrip().startswith("{"):
            raw = Path(raw).expanduser().read_text()
        elif not raw and home is not None and (home / "prices.json").is_file():
            raw = (home / "prices.json").read_text()
        return cls(parse_prices(json.loads(raw)) if raw else None)

    def price(self, tier: str, endpoint: str = "", model: str | None = None) -> Price:
        """Embedding requests are billed at the embeddings price whatever their tier; a model
        with its own price pays it, discounted as its tier is against real time."""
        if endpoint.endswith("/embeddings"):
            tier = "embeddings"
        base = self.prices.get(tier, self.prices["realtime"])
        own = self.models.get(model) if model else None
        if own is None:
            return base
        if tier == "embeddings":
            return own
        realtime = self.prices["realtime"]
        return Price(
            own.input * _factor(base.input, realtime.input),
            own.output * _factor(base.output, realtime.output),
        )

    def cost_pico(
        self,
        tier: str,
        endpoint: str,
        prompt_tokens: int,
        output_tokens: int,
        model: str | None = None,
    ) -> int:
        p = self.price(tier, endpoint, model)
        return prompt_tokens * p.input_pico + output_tokens * p.output_pico

    def estimate_pico(self, tier: str, endpoint: str, tokens: int, model: str | None = None) -> int:
        """An upper bound for ``tokens`` tokens of which any may be input or output."""
        p = self.price(tier, endpoint, model)
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


def _factor(tier_price: Decimal, realtime_price: Decimal) -> Decimal:
    return tier_price / realtime_price if realtime_price else Decimal(1)


def parse_price(value: object, what: str) -> Price:
    """``{"input": x, "output": y}`` in USD per 1M tokens: finite, >= 0, at most $1,000,000."""
    if not isinstance(value, dict) or set(value) - {"input", "output"}:
        raise InvalidRequestError(f"The price of {what} must be {{input, output}} (USD per 1M)")
    try:
        price = Price(Decimal(str(value.get("input", 0))), Decimal(str(value.get("output", 0))))
    except ArithmeticError as exc:
        raise InvalidRequestError(f"Invalid price for {what}: {exc}") from exc
    for amount in (price.input, price.output):
        if not amount.is_finite() or amount < 0 or amount > MAX_PRICE_USD:
            raise InvalidRequestError(
                f"Prices of {what} must be between 0 and {MAX_PRICE_USD} USD per 1M tokens"
            )
    return price


def pico_to_usd(pico: int) -> float:
    return pico / PICO_PER_USD
