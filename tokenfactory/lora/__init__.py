"""LoRA fine-tuning: adapters trained from chat JSONL with PEFT and served by name.

``install(core)`` (in :mod:`.feature`) wires it into the core; the training loop
(:mod:`.trainer`) imports torch and peft only when a job runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..core import Core
    from .service import LoraService


def install(core: Core) -> LoraService:
    from .feature import install as _install

    return _install(core)
