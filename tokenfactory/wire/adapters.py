"""The adapter objects ``/v1/adapters`` returns (shared by the gateway and the SDK; no torch)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, StrictBool, StrictFloat, StrictInt

from .common import RequestModel, WireModel


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


# -- requests --------------------------------------------------------------------------------
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
Number = StrictInt | StrictFloat  # true is not 1, "16" is not 16


class AdapterCreate(RequestModel):
    """``POST /v1/adapters``: a new adapter and its training hyperparameters."""

    name: str = Field(pattern=NAME_PATTERN, description="its model id; letters, digits, . _ -")
    display_name: str | None = None
    base_model: str | None = Field(None, description="a chat model served here (default: one)")
    epochs: StrictInt = Field(3, ge=1, le=10)
    learning_rate: Number = Field(0.0002, ge=0.0001, le=0.001)
    rank: Literal[8, 16, 32, 64] = 16
    alpha: Number | None = Field(None, gt=0, le=256, description="default: twice the rank")
    dropout: Number = Field(0.05, ge=0.0, le=0.5)
    batch_size: StrictInt = Field(4, ge=1, le=64)
    max_tokens: StrictInt = Field(1024, ge=32, le=8192, description="longer examples are cut")
    seed: StrictInt = 0


class AdapterImport(RequestModel):
    """``POST /v1/adapters/import`` (admin keys only): serve a PEFT LoRA folder trained
    elsewhere, as an adapter of the admin's workspace or of ``workspace``."""

    name: str = Field(pattern=NAME_PATTERN)
    path: str = Field(min_length=1, description="a folder with adapter_config.json")
    base_model: str | None = None
    display_name: str | None = None
    workspace: str | None = Field(None, description="the workspace it belongs to (default: yours)")


class TrainAdapter(RequestModel):
    """``POST /v1/adapters/{name}/train``."""

    resume: StrictBool = Field(False, description="continue from the last checkpoint")


class AdapterCheckpoint(WireModel):
    """One epoch of a LoRA job; ``id`` (``name@epoch-N``) is a model id."""

    id: str
    object: Literal["adapter.checkpoint"] = "adapter.checkpoint"
    adapter: str
    epoch: int
    loaded: bool


class AdapterCheckpointList(WireModel):
    object: Literal["list"] = "list"
    data: list[AdapterCheckpoint]


class PromoteCheckpoint(RequestModel):
    """``POST /v1/adapters/{name}/promote``: ``epoch-N``, ``N`` or ``name@epoch-N``."""

    checkpoint: str | int
