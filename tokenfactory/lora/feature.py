"""``install(core)``: the LoRA trainer and workspace-scoped adapter serving."""

from __future__ import annotations

from ..config import home
from ..core import Core
from .checkpoints import CheckpointServing
from .service import LoraService


def install(core: Core) -> LoraService:
    service = LoraService(core, home() / "adapters")
    core.installed.add(service)
    core.adapter_filter = service.visible
    core.model_resolvers.append(service.resolve)
    core.startup_hooks.append(service.on_startup)
    core.model_loaded_hooks.append(service.reattach)
    core.shutdown_hooks.append(service.on_shutdown)
    # every epoch's checkpoint served as ``ADAPTER@epoch-N`` (lora/checkpoints.py)
    checkpoints = CheckpointServing(core, service)
    core.model_resolvers.append(checkpoints.resolve)
    core.adapter_filter = checkpoints.visible
    core.startup_hooks.append(checkpoints.attach)
    core.model_loaded_hooks.append(checkpoints.attach)
    service.runner.trained_hooks.append(checkpoints.attach_record)
    return service
