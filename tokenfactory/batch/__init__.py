"""Durable, SLA-tiered batch jobs: validation, storage, the runner, and ``install(gateway)``."""

from __future__ import annotations

from ..gateway.state import Gateway


def install(gateway: Gateway) -> None:
    """Register the batch service and run its runner while the engine is up."""
    from .. import config
    from .service import BatchService

    service = BatchService(gateway, config.home() / "batch")
    gateway.services["batch"] = service
    gateway.startup_hooks.append(service.runner.start)
    gateway.shutdown_hooks.append(service.runner.stop)


def batch_service(gateway: Gateway):
    from ..errors import ServiceUnavailableError

    service = gateway.services.get("batch")
    if service is None:
        raise ServiceUnavailableError("Batch jobs are not enabled on this gateway")
    return service
