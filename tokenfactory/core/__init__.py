"""The application core: engine, store, keys and the ports its parts plug into; no HTTP.

The gateway (``tokenfactory.gateway``) is one door onto it; the batch runner, the trainer,
the CLI and tests are others. Nothing here imports FastAPI, the gateway package, the
inference services or a feature: they plug in through ``core.ports``.
"""

from .app import Core
from .ports import Installed, ModelBackend, UsageLedger, need
from .records import Admission, Call, Spent, Target, UsageRecord
from .run import Run

__all__ = [
    "Admission",
    "Call",
    "Core",
    "Installed",
    "ModelBackend",
    "Run",
    "Spent",
    "Target",
    "UsageLedger",
    "UsageRecord",
    "need",
]
