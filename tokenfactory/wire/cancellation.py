"""The answer to ``POST /v1/requests/{id}/cancel``."""

from __future__ import annotations

from typing import Literal

from .common import WireModel


class RequestCancellation(WireModel):
    id: str  # the X-Request-ID of the stopped stream
    object: Literal["request.cancellation"] = "request.cancellation"
    cancelled: bool = True
