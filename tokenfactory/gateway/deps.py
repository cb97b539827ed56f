"""Typed accessors from a request to the core and what is installed in it (503 when off)."""

from __future__ import annotations

from fastapi import Request

from ..batch.service import BatchService
from ..core import Core, need
from ..lora.service import LoraService
from ..ratelimit import RateLimiter
from ..remote.registry import RemoteModels
from ..responses.repository import ResponseRepository
from ..usage.meter import Meter
from ..usage.metrics import Metrics
from ..usage.prices import PriceTable
from ..usage.repository import UsageRepository
from ..webhooks.service import WebhookService


def core_of(request: Request) -> Core:
    """The application core this app serves."""
    core: Core = request.app.state.core
    return core


def webhooks_of(request: Request) -> WebhookService:
    return need(core_of(request).installed.get(WebhookService), "Webhooks")


def batch_of(request: Request) -> BatchService:
    return need(core_of(request).installed.get(BatchService), "Batch jobs")


def lora_of(request: Request) -> LoraService:
    return need(core_of(request).installed.get(LoraService), "LoRA fine-tuning")


def responses_of(request: Request) -> ResponseRepository:
    return need(core_of(request).installed.get(ResponseRepository), "The Responses API")


def usage_of(request: Request) -> UsageRepository:
    return need(core_of(request).installed.get(UsageRepository), "Usage reporting")


def prices_of(request: Request) -> PriceTable:
    return need(core_of(request).installed.get(PriceTable), "Usage pricing")


def ratelimit_of(request: Request) -> RateLimiter:
    return need(core_of(request).installed.get(RateLimiter), "Rate limiting")


def metrics_of(request: Request) -> Metrics:
    return need(core_of(request).installed.get(Metrics), "Metrics")


def meter_of(request: Request) -> Meter | None:
    return core_of(request).installed.get(Meter)


def remote_of(request: Request) -> RemoteModels | None:
    """The remote models, if this gateway has upstreams."""
    return core_of(request).installed.get(RemoteModels)
