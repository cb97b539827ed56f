"""OpenAI's ``/v1/fine_tuning/jobs`` on the LoRA jobs of ``/v1/adapters`` (one job, two
dialects). Training and validation files are ``/v1/files`` uploaded with purpose
``fine-tune``; the logic lives in ``tokenfactory.lora.fine_tuning``."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Depends, Query, Request

from ...errors import InvalidRequestError
from ...lora.fine_tuning import FineTuningJobs
from ...lora.fine_tuning_views import checkpoint_views, event_view, job_view
from ...store import Principal
from ...wire.fine_tuning import (
    FineTuningJob,
    FineTuningJobCheckpointList,
    FineTuningJobCreate,
    FineTuningJobEventList,
    FineTuningJobList,
)
from ..auth import authenticate
from ..deps import batch_of, lora_of
from ..responses import METERED

router = APIRouter(prefix="/v1/fine_tuning/jobs", responses=METERED)


def jobs_of(request: Request) -> FineTuningJobs:
    return FineTuningJobs(lora_of(request))


def file_content(request: Request, principal: Principal, file_id: str, param: str) -> bytes:
    row = batch_of(request).file(principal, file_id)
    if row["purpose"] != "fine-tune":
        raise InvalidRequestError(
            f"File '{file_id}' was uploaded with purpose '{row['purpose']}'; upload training "
            "data with purpose 'fine-tune'",
            param=param,
        )
    return Path(row["path"]).read_bytes()


@router.post("", response_model=FineTuningJob)
async def create_job(
    body: FineTuningJobCreate, request: Request, principal: Principal = Depends(authenticate)
) -> FineTuningJob:
    training = file_content(request, principal, body.training_file, "training_file")
    validation = None
    if body.validation_file is not None:
        validation = file_content(request, principal, body.validation_file, "validation_file")
    row, record = jobs_of(request).create(principal, body, training, validation)
    return job_view(row, record)


@router.get("", response_model=FineTuningJobList)
async def list_jobs(
    request: Request,
    after: str | None = Query(None),
    limit: int = Query(20, ge=1, le=100),
    principal: Principal = Depends(authenticate),
) -> FineTuningJobList:
    found = jobs_of(request).jobs(principal, after, limit + 1)
    return FineTuningJobList(
        data=[job_view(row, record) for row, record in found[:limit]],
        has_more=len(found) > limit,
    )


@router.get("/{job_id}", response_model=FineTuningJob)
async def get_job(
    job_id: str, request: Request, principal: Principal = Depends(authenticate)
) -> FineTuningJob:
    return job_view(*jobs_of(request).job(principal, job_id))


@router.post("/{job_id}/cancel", response_model=FineTuningJob)
async def cancel_job(
    job_id: str, request: Request, principal: Principal = Depends(authenticate)
) -> FineTuningJob:
    return job_view(*await jobs_of(request).cancel(principal, job_id))


@router.get("/{job_id}/events", response_model=FineTuningJobEventList)
async def list_events(
    job_id: str,
    request: Request,
    after: str | None = Query(None),
    limit: int = Query(20, ge=1, le=10_000),
    principal: Principal = Depends(authenticate),
) -> FineTuningJobEventList:
    """Newest first, as OpenAI lists them; ``after`` is the id of the last event seen."""
    events = [event_view(job_id, e) for e in jobs_of(request).events(principal, job_id)][::-1]
    if after is not None:
        ids = [e.id for e in events]
        events = events[ids.index(after) + 1 :] if after in ids else []
    return FineTuningJobEventList(data=events[:limit], has_more=len(events) > limit)


@router.get("/{job_id}/checkpoints", response_model=FineTuningJobCheckpointList)
async def list_checkpoints(
    job_id: str,
    request: Request,
    limit: int = Query(10, ge=1, le=100),
    principal: Principal = Depends(authenticate),
) -> FineTuningJobCheckpointList:
    jobs = jobs_of(request)
    _, record = jobs.job(principal, job_id)
    found = checkpoint_views(job_id, record, jobs.events(principal, job_id))
    page = found[:limit]
    return FineTuningJobCheckpointList(
        data=page,
        first_id=page[0].id if page else None,
        last_id=page[-1].id if page else None,
        has_more=len(found) > limit,
    )
