"""Kept for imports written before the move: the gateway's state is the application core."""

from ..core import Admission, Core, UsageRecord

Gateway = Core

__all__ = ["Admission", "Gateway", "UsageRecord"]
