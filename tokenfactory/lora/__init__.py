"""LoRA fine-tuning: adapters trained from chat JSONL with PEFT and served by name.

``install(core)`` (in :mod:`.feature`) wires it into the core; the training loop
(:mod:`.trainer`) imports torch and peft only when a job runs.
"""

from __future__ import annotations


def install(core):
    from .feature import install as _install

    return _install(core)
