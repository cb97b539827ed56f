"""Usage metering, pricing, wallets and metrics for the gateway.

``install(gateway)`` (listed in ``tokenfactory.features.FEATURES``) registers:

- ``services["meter"]``: the ``Meter`` (admission check: rate limit + wallet; usage sink:
  settlement + usage row + wallet debit);
- ``services["ratelimit"]``: the ``RateLimiter`` (tiers are editable: ``limiter.tiers``);
- ``services["usage"]``: the ``UsageRecords`` table; ``services["prices"]``: the price table;
- ``services["metrics"]``: the Prometheus ``Metrics`` (a usage sink, plus an engine sampler);
- ``services["middleware"]``: ``MeteringMiddleware`` (rate-limit headers on every
  authenticated response, failed requests recorded, keys kept out of access logs).
"""

from __future__ import annotations

import asyncio
import contextlib

from .. import config
from ..gateway.state import Gateway
from ..ratelimit import RateLimiter
from .meter import Meter
from .metrics import Metrics, sample_forever
from .middleware import MeteringMiddleware
from .prices import PriceTable
from .records import UsageRecords

__all__ = ["Meter", "Metrics", "PriceTable", "UsageRecords", "install"]


def install(gateway: Gateway) -> None:
    records = UsageRecords(gateway.store)
    limiter = RateLimiter()
    prices = PriceTable.from_config(config.home())
    meter = Meter(records, limiter, prices)
    metrics = Metrics(known_model=lambda model: _served(gateway, model))
    gateway.services.update(
        meter=meter, ratelimit=limiter, usage=records, prices=prices, metrics=metrics
    )
    gateway.services.setdefault("middleware", []).append(MeteringMiddleware)
    gateway.admission_checks.append(meter.admit)
    gateway.usage_sinks.append(meter.record)
    gateway.usage_sinks.append(metrics.observe)

    sampler: list[asyncio.Task] = []

    def engine_busy() -> bool:
        return gateway.engine.health().requests_running > 0

    async def start_sampler() -> None:
        sampler.append(asyncio.create_task(sample_forever(metrics, engine_busy)))

    async def stop_sampler() -> None:
        for task in sampler:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        sampler.clear()

    gateway.startup_hooks.append(start_sampler)
    gateway.shutdown_hooks.append(stop_sampler)


def _served(gateway: Gateway, model: str) -> bool:
    try:
        return gateway.find_model(model) is not None or model in gateway.engine.adapters()
    except Exception:
        return False
