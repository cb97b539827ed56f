"""Webhook endpoints and their delivery log (``/v1/admin/.../webhooks``) as the API returns
them; the events themselves are in OpenAI's webhook-event shape (``WebhookEvent``)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import ConfigDict, Field

from .common import WireModel

#: the events an endpoint can subscribe to (the test event is sent on request only)
EVENT_TYPES = (
    "batch.completed",
    "batch.failed",
    "batch.cancelled",
    "batch.expired",
    "fine_tuning.job.succeeded",
    "fine_tuning.job.failed",
    "fine_tuning.job.cancelled",
)


class WebhookCreate(WireModel):
    model_config = ConfigDict(extra="forbid")
    url: str = Field(min_length=1, max_length=2048)
    events: list[str] | None = Field(
        default=None, description="event types to receive; all of them when omitted"
    )
    description: str | None = Field(default=None, max_length=200)


class WebhookEndpoint(WireModel):
    id: str
    object: Literal["webhook_endpoint"] = "webhook_endpoint"
    workspace_id: str
    url: str
    events: list[str]
    description: str | None = None
    secret: str = Field(description="whsec_…: verify deliveries with tf.webhooks.verify")
    created_at: int


class WebhookEndpointList(WireModel):
    object: Literal["list"] = "list"
    data: list[WebhookEndpoint]


class WebhookDeleted(WireModel):
    id: str
    object: Literal["webhook_endpoint"] = "webhook_endpoint"
    deleted: bool = True


class WebhookEvent(WireModel):
    id: str
    object: Literal["event"] = "event"
    type: str
    created_at: int
    data: dict[str, Any]


class DeliveryAttempt(WireModel):
    attempt: int
    at: float
    status_code: int | None = None
    error: str | None = None


class WebhookDelivery(WireModel):
    id: str
    object: Literal["webhook_delivery"] = "webhook_delivery"
    event_id: str
    event_type: str
    status: Literal["pending", "delivered", "failed", "cancelled"]
    attempts: int
    next_attempt_at: float | None = None
    created_at: float
    finished_at: float | None = None
    attempt_log: list[DeliveryAttempt]


class WebhookDeliveryList(WireModel):
    object: Literal["list"] = "list"
    data: list[WebhookDelivery]
