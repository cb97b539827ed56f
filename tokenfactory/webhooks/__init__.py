"""Webhooks: signed job events (batches, fine-tuning) delivered to each workspace's endpoints.

``install(core)`` (listed in ``tokenfactory.features.FEATURES``) registers its
``WebhookService`` in ``core.installed``, turns every job end the core reports into an event,
and runs the delivery loop while the gateway is up. The HTTP side is
``gateway/routes/webhooks.py``; receivers verify with
``tf.webhooks.verify`` (``signing.py``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .receiver import Receiver
from .signing import WebhookVerificationError, verify

__all__ = ["Receiver", "WebhookVerificationError", "install", "verify"]

if TYPE_CHECKING:
    from ..core import Core


def install(core: Core) -> None:
    from ..core.records import JobEvent
    from .service import WebhookService

    service = WebhookService(core.store)
    core.installed.add(service)

    def job_ended(event: JobEvent) -> None:
        service.emit(event.workspace_id, event.type, {"id": event.job_id})

    core.job_observers.append(job_ended)
    core.startup_hooks.append(service.dispatcher.start)
    core.shutdown_hooks.append(service.dispatcher.stop)
