"""Usage metering, pricing, wallets and metrics for the core.

``install(core)`` (listed in ``tokenfactory.features.FEATURES``) plugs in:

- the ``Meter`` as ``core.meter`` (the usage ledger port: settlement + usage row + wallet
  debit, inside the caller's transaction) and as an admission check (rate limit + wallet);
- in ``core.installed``: the ``Meter``, the ``RateLimiter`` (tiers are editable:
  ``limiter.tiers``), the ``UsageRepository`` table, the ``PriceTable`` and the Prometheus
  ``Metrics`` (a usage observer, plus an engine sampler).

The HTTP side (rate-limit headers on every authenticated response, failed requests metered,
keys kept out of access logs) is ``gateway.metering_middleware``, added when a meter is set.
"""

from __future__ import annotations

import asyncio
import contextlib

from .. import config
from ..core import Core
from ..core.records import UsageRecord
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
    metrics = Metrics(label_of=lambda record: _label(core, record))
    core.meter = meter
    for part in (meter, limiter, records, prices, metrics, caps):
        core.installed.add(part)
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


def _label(core: Core, record: UsageRecord) -> str:
    """A served base model is its own label; a workspace's adapter is ``adapter`` (its name or
    id is that workspace's business); anything else (an unknown name) is ``other``."""
    try:
        if core.find_model(record.model) is not None:
            return record.model
        if record.model in core.visible_adapters(record.principal):
            return "adapter"
    except Exception:
        pass
    return "other"
