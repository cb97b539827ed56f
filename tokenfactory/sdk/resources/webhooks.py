"""``client.admin.webhooks``: a workspace's webhook endpoints, test events and delivery logs
(admin key only). Receivers check each delivery with ``tf.webhooks.verify`` (or run a
``tf.webhooks.Receiver`` in the notebook).

    rx = tf.webhooks.Receiver()
    endpoint = client.admin.webhooks.create("alice", url=rx.url, events=["batch.completed"])
    rx.secret = endpoint.secret
    client.admin.webhooks.test(endpoint.id)          # a signed ``webhook.test`` event
    client.admin.webhooks.deliveries(endpoint.id)    # status and every attempt
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from typing_extensions import Unpack

from tokenfactory.wire import webhooks as wire
from tokenfactory.wire.webhooks import EVENT_TYPES

from .._request import APIRequest, RequestOptions
from .._resource import AsyncAPIResource, SyncAPIResource, get_request, post_request
from ..types import ResponseMeta
from .workspaces import ws_path


class WebhookEndpoint(ResponseMeta, wire.WebhookEndpoint):
    """``secret`` (``whsec_…``) verifies this endpoint's deliveries."""


class WebhookEndpointList(ResponseMeta, wire.WebhookEndpointList):
    data: list[WebhookEndpoint]  # type: ignore[assignment]  # the SDK's own endpoint type

    def __iter__(self) -> Iterator[WebhookEndpoint]:  # type: ignore[override]  # the endpoints
        return iter(self.data)

    def __len__(self) -> int:
        return len(self.data)


class WebhookEndpointDeleted(ResponseMeta, wire.WebhookDeleted):
    pass


class WebhookEvent(ResponseMeta, wire.WebhookEvent):
    pass


class WebhookDeliveryList(ResponseMeta, wire.WebhookDeliveryList):
    """Newest first: each event's status (pending, delivered, failed) and its attempts."""

    def __iter__(self) -> Iterator[wire.WebhookDelivery]:  # type: ignore[override]
        return iter(self.data)

    def __len__(self) -> int:
        return len(self.data)


WebhookDelivery = wire.WebhookDelivery


def _create(
    workspace: str,
    url: str,
    events: Iterable[str] | None,
    description: str | None,
    options: RequestOptions,
) -> APIRequest[WebhookEndpoint]:
    body = {
        "url": url,
        "events": None if events is None else list(events),
        "description": description,
        **options,
    }
    return post_request(ws_path(workspace) + "/webhooks", WebhookEndpoint, body)


def _deliveries(
    endpoint_id: str, limit: int | None, options: RequestOptions
) -> APIRequest[WebhookDeliveryList]:
    path = f"/admin/webhooks/{endpoint_id}/deliveries"
    return get_request(path, WebhookDeliveryList, {"limit": limit, **options})


class Webhooks(SyncAPIResource):
    def create(
        self,
        workspace: str,
        *,
        url: str,
        events: Iterable[str] | None = None,
        description: str | None = None,
        **options: Unpack[RequestOptions],
    ) -> WebhookEndpoint:
        """Register ``url`` for ``events`` (all of ``EVENT_TYPES`` when omitted)."""
        return self._client.request(_create(workspace, url, events, description, options))

    def list(self, workspace: str, **options: Unpack[RequestOptions]) -> WebhookEndpointList:
        path = ws_path(workspace) + "/webhooks"
        return self._get(path, cast_to=WebhookEndpointList, params=options)

    def delete(self, endpoint_id: str, **options: Unpack[RequestOptions]) -> WebhookEndpointDeleted:
        """Remove the endpoint; its pending deliveries are cancelled."""
        path = f"/admin/webhooks/{endpoint_id}"
        return self._delete(path, cast_to=WebhookEndpointDeleted, options=options)

    def test(self, endpoint_id: str, **options: Unpack[RequestOptions]) -> WebhookEvent:
        """Queue a signed ``webhook.test`` event to the endpoint; returns the event sent."""
        path = f"/admin/webhooks/{endpoint_id}/test"
        return self._post(path, cast_to=WebhookEvent, body=dict(options))

    def deliveries(
        self, endpoint_id: str, *, limit: int | None = None, **options: Unpack[RequestOptions]
    ) -> WebhookDeliveryList:
        return self._client.request(_deliveries(endpoint_id, limit, options))


class AsyncWebhooks(AsyncAPIResource):
    async def create(
        self,
        workspace: str,
        *,
        url: str,
        events: Iterable[str] | None = None,
        description: str | None = None,
        **options: Unpack[RequestOptions],
    ) -> WebhookEndpoint:
        return await self._client.request(_create(workspace, url, events, description, options))

    async def list(self, workspace: str, **options: Unpack[RequestOptions]) -> WebhookEndpointList:
        path = ws_path(workspace) + "/webhooks"
        return await self._get(path, cast_to=WebhookEndpointList, params=options)

    async def delete(
        self, endpoint_id: str, **options: Unpack[RequestOptions]
    ) -> WebhookEndpointDeleted:
        path = f"/admin/webhooks/{endpoint_id}"
        return await self._delete(path, cast_to=WebhookEndpointDeleted, options=options)

    async def test(self, endpoint_id: str, **options: Unpack[RequestOptions]) -> WebhookEvent:
        path = f"/admin/webhooks/{endpoint_id}/test"
        return await self._post(path, cast_to=WebhookEvent, body=dict(options))

    async def deliveries(
        self, endpoint_id: str, *, limit: int | None = None, **options: Unpack[RequestOptions]
    ) -> WebhookDeliveryList:
        return await self._client.request(_deliveries(endpoint_id, limit, options))


__all__ = [
    "EVENT_TYPES",
    "AsyncWebhooks",
    "WebhookDelivery",
    "WebhookDeliveryList",
    "WebhookEndpoint",
    "WebhookEndpointDeleted",
    "WebhookEndpointList",
    "WebhookEvent",
    "Webhooks",
]
