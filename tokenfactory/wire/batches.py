"""Batch jobs and files in both dialects: the SLA dialect's ``/v1/batch`` and OpenAI's
``/v1/batches`` + ``/v1/files`` (shared by the gateway and the SDK; no torch)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from .common import RequestModel, WireModel


class CreateBatchRequest(RequestModel):
    """OpenAI's ``POST /v1/batches``: a job over a file uploaded with ``POST /v1/files``."""

    input_file_id: str = Field(min_length=1)
    endpoint: str = Field(min_length=1)
    completion_window: str = "24h"
    metadata: dict[str, Any] | None = None


class SlaBatchCreated(WireModel):
    id: str
    object: Literal["batch"] = "batch"
    status: str
    created_at: str | None
    total_requests: int
    sla: str


class PartialSlaBatch(WireModel):
    """A ``/v1/batch`` job with only ``id`` and ``status`` required: what the SDK reads, since
    ``POST /v1/batch`` answers with part of it (``SlaBatchCreated``) and ``GET`` with all."""

    id: str
    object: Literal["batch"] = "batch"
    status: str
    sla: str | None = None
    endpoint: str | None = None
    total_requests: int = 0
    completed_requests: int = 0
    failed_requests: int = 0
    created_at: str | None = None
    started_at: str | None = None
    completed_at: str | None = None
    cancelled_at: str | None = None
    expires_at: str | None = None
    input_file_id: str | None = None
    output_file_id: str | None = None
    error_file_id: str | None = None
    metadata: dict[str, Any] | None = None


class SlaBatch(PartialSlaBatch):
    """A job as ``/v1/batch`` shows it (ISO times, ``sla``, flat counts), every field it always
    fills required (a redeclared field keeps its place in the JSON)."""

    sla: str
    endpoint: str
    total_requests: int
    completed_requests: int
    failed_requests: int
    created_at: str | None


class RequestCounts(WireModel):
    total: int
    completed: int
    failed: int


class OpenAIBatch(WireModel):
    """A job as ``/v1/batches`` shows it (Unix times, ``completion_window``)."""

    id: str
    object: Literal["batch"] = "batch"
    endpoint: str
    errors: Any = None
    input_file_id: str
    completion_window: str
    status: str
    output_file_id: str | None = None
    error_file_id: str | None = None
    created_at: int
    in_progress_at: int | None = None
    expires_at: int | None = None
    finalizing_at: int | None = None
    completed_at: int | None = None
    failed_at: int | None = None
    expired_at: int | None = None
    cancelling_at: int | None = None
    cancelled_at: int | None = None
    request_counts: RequestCounts
    metadata: dict[str, Any] | None = None


class SlaBatchList(WireModel):
    object: Literal["list"] = "list"
    data: list[SlaBatch]
    first_id: str | None = None
    last_id: str | None = None
    has_more: bool = False


class OpenAIBatchList(WireModel):
    object: Literal["list"] = "list"
    data: list[OpenAIBatch]
    first_id: str | None = None
    last_id: str | None = None
    has_more: bool = False


class FileObject(WireModel):
    id: str
    object: Literal["file"] = "file"
    bytes: int
    created_at: int
    filename: str
    purpose: str
    status: str = "processed"


class FileList(WireModel):
    object: Literal["list"] = "list"
    data: list[FileObject]
    first_id: str | None = None
    last_id: str | None = None
    has_more: bool = False


class FileDeleted(WireModel):
    id: str
    object: Literal["file"] = "file"
    deleted: bool = True


class BatchRequestLine(WireModel):
    """One line of a batch input file: ``{"custom_id", "body"}``, or OpenAI's with ``method``
    and ``url`` too (what the SDK reads back from ``/v1/files/{id}/content``)."""

    custom_id: str
    body: dict[str, Any]
    method: str | None = None
    url: str | None = None


class BatchLineError(WireModel):
    code: str | None = None
    message: str = ""


class BatchLineResponse(WireModel):
    status_code: int
    request_id: str | None = None
    body: dict[str, Any] | None = None  # the endpoint's answer, or ``{"error": {...}}``


class BatchResultLine(WireModel):
    """One line of a batch's results (OpenAI's batch output shape), as the executor writes it:
    ``response`` when the line ran (its status may be an error), ``error`` when it could not."""

    id: str
    custom_id: str
    response: BatchLineResponse | None = None
    error: BatchLineError | None = None
