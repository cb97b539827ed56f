"""The adapter objects ``/v1/adapters`` returns (shared by the gateway and the SDK; no torch)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Literal

from ..wire.common import WireModel

if TYPE_CHECKING:
    from .records import AdapterRecord


class Hyperparameters(WireModel):
    epochs: int
    learning_rate: float
    rank: int
    alpha: float
    dropout: float
    batch_size: int = 4
    max_tokens: int = 1024
    seed: int = 0


class Progress(WireModel):
    step: int = 0
    total_steps: int = 0
    epoch: int = 0
    epochs: int = 0
    fraction: float = 0.0


class Adapter(WireModel):
    id: str
    object: Literal["adapter"] = "adapter"
    name: str
    model: str  # the model id to call it by (its name)
    display_name: str | None = None
    base_model: str
    parent: str | None = None
    source: str = "trained"  # trained | imported
    status: str
    loaded: bool = False
    hyperparameters: Hyperparameters
    training_examples: int = 0
    validation_examples: int = 0
    progress: Progress = Progress()
    train_loss: float | None = None
    validation_loss: float | None = None
    eta_s: float | None = None
    error: str | None = None
    created_at: float = 0
    started_at: float | None = None
    finished_at: float | None = None


class AdapterList(WireModel):
    object: Literal["list"] = "list"
    data: list[Adapter]


class AdapterEvent(WireModel):
    seq: int
    created_at: float
    type: str  # status | loss | epoch | info
    step: int | None = None
    epoch: int | None = None
    loss: float | None = None
    validation_loss: float | None = None
    message: str | None = None


class AdapterEventList(WireModel):
    object: Literal["list"] = "list"
    data: list[AdapterEvent]
    status: str | None = None


class DeletedAdapter(WireModel):
    id: str
    name: str
    object: Literal["adapter"] = "adapter"
    deleted: bool = True


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
