"""Optional features installed into every core (batch runner, LoRA trainer, usage, limits,
webhooks, the Responses API).

Each module listed here has ``install(core)``, which registers its services in
``core.installed`` and plugs into the core's ports (the usage ledger, admission checks, usage
observers, model resolvers, startup/shutdown hooks). Its HTTP routes are listed in
``gateway.app.ROUTERS``. The inference services go in first (``services.install``).
"""

from __future__ import annotations

import importlib

from .core import Core
from .services import install as install_services

FEATURES: list[str] = [
    "tokenfactory.batch",
    "tokenfactory.usage",
    "tokenfactory.lora",
    "tokenfactory.webhooks",
    "tokenfactory.responses",
]


def install_features(core: Core) -> None:
    """The inference services, then every feature."""
    install_services(core)
    for module in FEATURES:
        importlib.import_module(module).install(core)
