"""OpenAI's fine-tuning dialect (``/v1/fine_tuning/jobs``) over the same LoRA jobs as
``/v1/adapters``: what the official client sends and reads back."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, StrictFloat, StrictInt

from .common import RequestModel, WireModel

Auto = Literal["auto"]


class SupervisedHyperparameters(RequestModel):
    n_epochs: StrictInt | Auto = Field("auto", description="1-10; auto: 3")
    batch_size: StrictInt | Auto = Field("auto", description="1-64; auto: 4")
    learning_rate_multiplier: StrictFloat | StrictInt | Auto = Field(
        "auto", description="times 2e-4 (the LoRA default), within 1e-4..1e-3; auto: 1"
    )
    # LoRA's own settings (the seeds' rank, alpha and dropout)
    rank: Literal[8, 16, 32, 64] | None = None
    alpha: StrictFloat | StrictInt | None = Field(None, gt=0, le=256)
    dropout: StrictFloat | StrictInt | None = Field(None, ge=0, le=0.5)


class Supervised(RequestModel):
    hyperparameters: SupervisedHyperparameters = SupervisedHyperparameters()


class Method(RequestModel):
    type: Literal["supervised"] = "supervised"
    supervised: Supervised = Supervised()


class FineTuningJobCreate(RequestModel):
    model: str = Field(min_length=1, description="the base chat model")
    training_file: str = Field(min_length=1, description="a file uploaded with purpose fine-tune")
    validation_file: str | None = None
    hyperparameters: SupervisedHyperparameters | None = None
    method: Method | None = None
    suffix: str | None = Field(None, max_length=64, pattern=r"^[A-Za-z0-9_.-]*$")
    seed: StrictInt | None = Field(None, ge=0, le=2**31 - 1)
    metadata: dict[str, str] | None = Field(None, max_length=16)


class FineTuningError(WireModel):
    code: str
    message: str
    param: str | None = None


class JobHyperparameters(WireModel):
    n_epochs: int
    batch_size: int
    learning_rate_multiplier: float


class JobMethod(WireModel):
    type: Literal["supervised"] = "supervised"
    supervised: dict[str, Any]


class FineTuningJob(WireModel):
    id: str
    object: Literal["fine_tuning.job"] = "fine_tuning.job"
    created_at: int
    finished_at: int | None = None
    model: str
    fine_tuned_model: str | None = None
    organization_id: str
    status: Literal["validating_files", "queued", "running", "succeeded", "failed", "cancelled"]
    hyperparameters: JobHyperparameters
    method: JobMethod
    training_file: str
    validation_file: str | None = None
    result_files: list[str] = []
    trained_tokens: int | None = None
    error: FineTuningError | None = None
    seed: int
    estimated_finish: int | None = None
    integrations: list[dict[str, Any]] = []
    metadata: dict[str, str] | None = None
    user_provided_suffix: str | None = None


class FineTuningJobList(WireModel):
    object: Literal["list"] = "list"
    data: list[FineTuningJob]
    has_more: bool = False


class FineTuningJobEvent(WireModel):
    id: str
    object: Literal["fine_tuning.job.event"] = "fine_tuning.job.event"
    created_at: int
    level: Literal["info", "warn", "error"] = "info"
    message: str
    type: Literal["message", "metrics"] = "message"
    data: dict[str, Any] | None = None


class FineTuningJobEventList(WireModel):
    object: Literal["list"] = "list"
    data: list[FineTuningJobEvent]
    has_more: bool = False


class CheckpointMetrics(WireModel):
    step: float | None = None
    train_loss: float | None = None
    valid_loss: float | None = None


class FineTuningJobCheckpoint(WireModel):
    id: str
    object: Literal["fine_tuning.job.checkpoint"] = "fine_tuning.job.checkpoint"
    created_at: int
    fine_tuned_model_checkpoint: str
    fine_tuning_job_id: str
    step_number: int
    metrics: CheckpointMetrics


class FineTuningJobCheckpointList(WireModel):
    object: Literal["list"] = "list"
    data: list[FineTuningJobCheckpoint]
    first_id: str | None = None
    last_id: str | None = None
    has_more: bool = False
