"""Webhook endpoints per workspace and the events they receive, in OpenAI's event shape.

An event is ``{"id": "evt_…", "object": "event", "type": "batch.completed", "created_at": …,
"data": {"id": "batch_…"}}``; it is queued once per subscribed endpoint of the workspace the
job belongs to, and the dispatcher delivers it signed (``signing.py``).
"""

from __future__ import annotations

import time
import uuid
from typing import Any
from urllib.parse import urlparse

from ..errors import InvalidRequestError
from ..store import Store
from ..wire.webhooks import EVENT_TYPES
from .delivery import Dispatcher
from .repository import WebhookRepository
from .signing import new_secret

TEST_EVENT = "webhook.test"


def new_event(event_type: str, data: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": "evt_" + uuid.uuid4().hex[:24],
        "object": "event",
        "type": event_type,
        "created_at": int(time.time()),
        "data": data,
    }


class WebhookService:
    def __init__(self, store: Store) -> None:
        self.repo = WebhookRepository(store)
        self.dispatcher = Dispatcher(self.repo)

    def register(
        self,
        workspace: str,
        url: str,
        events: list[str] | None = None,
        description: str | None = None,
    ) -> dict[str, Any]:
        """A new endpoint; its secret is returned here (and with every listing to an admin)."""
        parsed = urlparse(url)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise InvalidRequestError(
                f"The webhook url must be an http(s) URL, got '{url}'", param="url"
            )
        chosen = list(events) if events else list(EVENT_TYPES)
        unknown = sorted(set(chosen) - set(EVENT_TYPES))
        if unknown:
            raise InvalidRequestError(
                f"Unknown webhook event type(s) {unknown}; known: {list(EVENT_TYPES)}",
                param="events",
            )
        return self.repo.add_endpoint(workspace, url, new_secret(), chosen, description)

    def emit(self, workspace: str, event_type: str, data: dict[str, Any]) -> dict[str, Any]:
        """Queue one event for every endpoint of ``workspace`` subscribed to its type."""
        event = new_event(event_type, data)
        for endpoint in self.repo.endpoints(workspace):
            if event_type in endpoint["events"]:
                self.repo.enqueue(endpoint["id"], event)
        self.dispatcher.wake()
        return event

    def send_test(self, endpoint_id: str) -> dict[str, Any]:
        endpoint = self.repo.endpoint(endpoint_id)
        event = new_event(TEST_EVENT, {"endpoint_id": endpoint_id})
        self.repo.enqueue(endpoint_id, event)
        self.dispatcher.wake()
        return {**event, "workspace_id": endpoint["workspace_id"]}
