"""The adapter objects ``/v1/adapters`` returns (shared by the gateway and the SDK; no torch)."""

from __future__ import annotations

from typing import Literal

from .common import WireModel


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
