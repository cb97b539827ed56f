"""The application core: engine, store, keys, services and features, with no HTTP in it.

The gateway (``tokenfactory.gateway``) is one door onto it; the batch runner, the trainer,
the CLI and tests are others. Nothing here imports FastAPI or the gateway package.
"""

from .app import Core, need
from .records import Admission, Call, Target, UsageRecord

__all__ = ["Admission", "Call", "Core", "Target", "UsageRecord", "need"]
