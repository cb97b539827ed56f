"""Adapter records as the API shows them; the wire models themselves live in ``wire.adapters``."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from ..wire.adapters import (
    Adapter,
    AdapterEvent,
    AdapterEventList,
    AdapterList,
    DeletedAdapter,
    Hyperparameters,
    Progress,
)

if TYPE_CHECKING:
    from .repository import AdapterRecord

__all__ = [
    "Adapter",
    "AdapterEvent",
    "AdapterEventList",
    "AdapterList",
    "DeletedAdapter",
    "Hyperparameters",
    "Progress",
    "adapter_view",
    "eta",
]


def eta(record: AdapterRecord, now: float | None = None) -> float | None:
    if record.status != "running" or not record.run_started_at:
        return None
    done = record.step - record.run_start_step
    if done <= 0 or record.total_steps <= 0:
        return None
    elapsed = (now or time.time()) - record.run_started_at
    return max(0.0, elapsed / done * (record.total_steps - record.step))


def adapter_view(record: AdapterRecord, loaded: bool) -> Adapter:
    total = record.total_steps
    return Adapter(
        id=record.id,
        name=record.name,
        model=record.name,
        display_name=record.display_name,
        base_model=record.base_model,
        parent=record.base_model,
        source=record.source,
        status=record.status,
        loaded=loaded,
        hyperparameters=Hyperparameters(**record.params.to_dict()),
        training_examples=record.training_examples,
        validation_examples=record.validation_examples,
        progress=Progress(
            step=record.step,
            total_steps=total,
            epoch=record.epoch,
            epochs=record.params.epochs,
            fraction=round(record.step / total, 4) if total else 0.0,
        ),
        train_loss=record.train_loss,
        validation_loss=record.validation_loss,
        eta_s=eta(record),
        error=record.error,
        created_at=record.created_at,
        started_at=record.started_at,
        finished_at=record.finished_at,
    )
