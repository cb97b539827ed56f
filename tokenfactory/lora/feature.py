"""``install(gateway)``: the LoRA trainer and workspace-scoped adapter serving."""

from __future__ import annotations

from ..config import home
from ..gateway.state import Gateway
from .service import LoraService


def install(gateway: Gateway) -> LoraService:
    service = LoraService(gateway, home() / "adapters")
    gateway.services["lora"] = service
    gateway.services["adapter_filter"] = service.visible
    gateway.model_resolvers.append(service.resolve)
    gateway.startup_hooks.append(service.on_startup)
    gateway.shutdown_hooks.append(service.on_shutdown)
    return service
