"""Usage metering, pricing, wallets and metrics for the core.

``install(core)`` (listed in ``tokenfactory.features.FEATURES``) sets:

- ``core.meter``: the ``Meter`` (admission check: rate limit + wallet; the usage ledger:
  settlement + usage row + wallet debit, inside the caller's transaction);
- ``core.ratelimit``: the ``RateLimiter`` (tiers are editable: ``limiter.tiers``);
- ``core.usage``: the ``UsageRepository`` table; ``core.prices``: the price table;
- ``core.metrics``: the Prometheus ``Metrics`` (a usage observer, plus an engine sampler).

The HTTP side (rate-limit headers on every authenticated response, failed requests metered,
keys kept out of access logs) is ``gateway.metering_middleware``, added when a meter is set.
"""

from __future__ import annotations

import asyncio
import contextlib

from .. import config
from ..core import Core
from ..ratelimit import RateLimiter
from .caps import MonthlyCaps
from .meter import Meter
from .metrics import Metrics, sample_forever
from .model_prices import ModelPriceRepository
from .prices import PriceTable
from .repository import UsageRepository

__all__ = ["Meter", "Metrics", "PriceTable", "UsageRepository", "install"]


def install(core: Core) -> None:
    records = UsageRepository(core.store)
    limiter = RateLimiter()
    prices = PriceTable.from_config(config.home())
    prices.models.update(ModelPriceRepository(core.store).all())
    caps = MonthlyCaps(core.store, records)
    meter = Meter(records, limiter, prices, caps=caps)
    metrics = Metrics(known_model=lambda model: _served(core, model))
    core.meter, core.ratelimit, core.usage, core.prices = meter, limiter, records, prices
    core.metrics = metrics
    core.admission_checks.append(meter.admit)
    core.usage_observers.append(metrics.observe)

    sampler: list[asyncio.Task] = []

    def engine_busy() -> bool:
        return core.engine.health().requests_running > 0

    async def start_sampler() -> None:
        sampler.append(asyncio.create_task(sample_forever(metrics, engine_busy)))

    async def stop_sampler() -> None:
        for task in sampler:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        sampler.clear()

    core.startup_hooks.append(start_sampler)
    core.shutdown_hooks.append(stop_sampler)


def _served(core: Core, model: str) -> bool:
    try:
        return core.find_model(model) is not None or model in core.engine.adapters()
    except Exception:
        return False
