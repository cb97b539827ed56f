"""A LoRA job as OpenAI's ``fine_tuning.job`` and its events and epoch checkpoints."""

from __future__ import annotations

import json
from typing import Any

from ..wire.fine_tuning import (
    CheckpointMetrics,
    FineTuningError,
    FineTuningJob,
    FineTuningJobCheckpoint,
    FineTuningJobEvent,
    JobHyperparameters,
    JobMethod,
)
from .fine_tuning import BASE_LEARNING_RATE
from .repository import AdapterRecord

STATUS = {
    "created": "validating_files",
    "validating": "validating_files",
    "queued": "queued",
    "running": "running",
    "succeeded": "succeeded",
    "failed": "failed",
    "cancelled": "cancelled",
}


def checkpoint_model(adapter: str, epoch: int) -> str:
    """The model id a checkpoint is served by (``ADAPTER@epoch-N``)."""
    return f"{adapter}@epoch-{epoch}"


def job_view(row: dict[str, Any], record: AdapterRecord) -> FineTuningJob:
    params = record.params
    hyper = JobHyperparameters(
        n_epochs=params.epochs,
        batch_size=params.batch_size,
        learning_rate_multiplier=round(params.learning_rate / BASE_LEARNING_RATE, 6),
    )
    supervised = {
        "hyperparameters": {
            **hyper.model_dump(),
            "rank": params.rank,
            "alpha": params.alpha,
            "dropout": params.dropout,
        }
    }
    status = STATUS.get(record.status, "validating_files")
    error = None
    if status == "failed":
        error = FineTuningError(code="training_failed", message=record.error or "training failed")
    return FineTuningJob(
        id=row["id"],
        created_at=int(row["created_at"]),
        finished_at=int(record.finished_at)
        if record.finished_at and status in ("succeeded", "failed", "cancelled")
        else None,
        model=record.base_model,
        fine_tuned_model=record.name if status == "succeeded" else None,
        organization_id=record.workspace_id,
        status=status,
        hyperparameters=hyper,
        method=JobMethod(supervised=supervised),
        training_file=row["training_file"],
        validation_file=row["validation_file"],
        error=error,
        seed=params.seed,
        metadata=json.loads(row["metadata"]) if row["metadata"] else None,
        user_provided_suffix=row["suffix"],
    )


def event_view(job_id: str, event: dict[str, Any]) -> FineTuningJobEvent:
    kind = event["type"]
    if kind == "loss":
        return FineTuningJobEvent(
            id=f"ftevent-{job_id.removeprefix('ftjob-')}-{event['seq']}",
            created_at=int(event["created_at"]),
            message=f"Step {event['step']}: training loss={event['loss']:.4f}",
            type="metrics",
            data={"step": event["step"], "epoch": event["epoch"], "train_loss": event["loss"]},
        )
    data = None
    if kind == "epoch":
        data = {"epoch": event["epoch"], "step": event["step"]}
        if event["validation_loss"] is not None:
            data["valid_loss"] = event["validation_loss"]
    level = "error" if (event["message"] or "").startswith("failed") else "info"
    return FineTuningJobEvent(
        id=f"ftevent-{job_id.removeprefix('ftjob-')}-{event['seq']}",
        created_at=int(event["created_at"]),
        level=level,
        message=event["message"] or kind,
        type="metrics" if data else "message",
        data=data,
    )


def checkpoint_views(
    job_id: str, record: AdapterRecord, events: list[dict[str, Any]]
) -> list[FineTuningJobCheckpoint]:
    """One checkpoint per finished epoch, newest first (the last loss before it as its metric)."""
    checkpoints = []
    last_loss: float | None = None
    for event in events:
        if event["type"] == "loss":
            last_loss = event["loss"]
        elif event["type"] == "epoch":
            checkpoints.append(
                FineTuningJobCheckpoint(
                    id=f"ftckpt-{job_id.removeprefix('ftjob-')}-{event['epoch']}",
                    created_at=int(event["created_at"]),
                    fine_tuned_model_checkpoint=checkpoint_model(record.name, event["epoch"]),
                    fine_tuning_job_id=job_id,
                    step_number=event["step"],
                    metrics=CheckpointMetrics(
                        step=event["step"],
                        train_loss=last_loss,
                        valid_loss=event["validation_loss"],
                    ),
                )
            )
    return checkpoints[::-1]
