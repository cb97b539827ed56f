"""Optional features installed into every gateway (batch runner, LoRA trainer, usage, limits).

Each module listed here has ``install(gateway)``, which registers its services, admission
checks, usage sinks and startup/shutdown hooks on the ``Gateway``. Its HTTP routes are listed
in ``gateway.app.ROUTERS``.
"""

from __future__ import annotations

import importlib

from .gateway.state import Gateway

FEATURES: list[str] = [
    "tokenfactory.batch",
    "tokenfactory.usage",
    "tokenfactory.lora",
]


def install_features(gateway: Gateway) -> None:
    for module in FEATURES:
        importlib.import_module(module).install(gateway)
