"""Durable, SLA-tiered batch jobs: validation, storage, the runner, and ``install(core)``."""

from __future__ import annotations

from ..core import Core


def install(core: Core) -> None:
    """Register the batch service and run its runner while the engine is up."""
    from .. import config
    from .service import BatchService

    service = BatchService(core, config.home() / "batch")
    core.installed.add(service)
    core.startup_hooks.append(service.runner.start)
    core.shutdown_hooks.append(service.runner.stop)
