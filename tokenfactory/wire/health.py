"""``GET /health``: readiness, the engine and its models (shared by the gateway and the SDK)."""

from __future__ import annotations

from typing import Any

from .common import WireModel


class Health(WireModel):
    """Without a valid key only the first four fields; with a workspace's key ``models`` carry
    only their public fields and ``adapters`` that workspace's own (by name)."""

    service: str = "tokenfactory"
    status: str  # ok | loading | failed
    ready: bool
    version: str
    engine: str | None = None
    device: str | None = None
    requests_running: int = 0
    requests_waiting: int = 0
    models: list[dict[str, Any]] = []
    adapters: list[str] = []
    upstreams: list[dict[str, Any]] = []
    uptime_s: float = 0.0
    batch_lines_in_flight: int | None = None
