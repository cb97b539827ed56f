"""Optional features installed into every core (batch runner, LoRA trainer, usage, limits).

Each module listed here has ``install(core)``, which sets its typed attribute on the
:class:`~tokenfactory.core.Core` and adds its admission checks, usage observers and
startup/shutdown hooks. Its HTTP routes are listed in ``gateway.app.ROUTERS``.
"""

from __future__ import annotations

import importlib

from .core import Core

FEATURES: list[str] = [
    "tokenfactory.batch",
    "tokenfactory.usage",
    "tokenfactory.lora",
    "tokenfactory.webhooks",
]


def install_features(core: Core) -> None:
    for module in FEATURES:
        importlib.import_module(module).install(core)
