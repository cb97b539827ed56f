"""Typed accessors from a request to the core and its feature services (503 when off)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import Request

from ..core import Core, need

if TYPE_CHECKING:
    from ..batch.service import BatchService
    from ..lora.service import LoraService
    from ..ratelimit import RateLimiter
    from ..usage.metrics import Metrics
    from ..usage.repository import UsageRepository
    from ..webhooks.service import WebhookService


def core_of(request: Request) -> Core:
    """The application core this app serves."""
    return request.app.state.core


def webhooks_of(request: Request) -> WebhookService:
    return need(core_of(request).webhooks, "Webhooks")


def batch_of(request: Request) -> BatchService:
    return need(core_of(request).batch, "Batch jobs")


def lora_of(request: Request) -> LoraService:
    return need(core_of(request).lora, "LoRA fine-tuning")


def usage_of(request: Request) -> UsageRepository:
    return need(core_of(request).usage, "Usage reporting")


def ratelimit_of(request: Request) -> RateLimiter:
    return need(core_of(request).ratelimit, "Rate limiting")


def metrics_of(request: Request) -> Metrics:
    return need(core_of(request).metrics, "Metrics")
