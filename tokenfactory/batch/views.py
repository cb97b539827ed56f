"""How a job looks in each dialect: ``/v1/batch`` (with an SLA) and OpenAI's ``/v1/batches``."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

from ..wire.batches import FileObject, OpenAIBatch, RequestCounts, SlaBatch


def iso(ts: float | None) -> str | None:
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _int(ts: float | None) -> int | None:
    return None if ts is None else int(ts)


def _metadata(job: dict[str, Any]) -> dict[str, Any] | None:
    return json.loads(job["metadata"]) if job["metadata"] else None


def sla_view(job: dict[str, Any]) -> SlaBatch:
    terminal_at = job["finished_at"] if job["status"] in ("completed", "failed") else None
    return SlaBatch(
        id=job["id"],
        status=job["status"],
        sla=job["sla"],
        endpoint=job["endpoint"],
        total_requests=job["total"],
        completed_requests=job["completed"],
        failed_requests=job["failed"],
        created_at=iso(job["created_at"]),
        started_at=iso(job["started_at"]),
        completed_at=iso(terminal_at),
        cancelled_at=iso(job["finished_at"]) if job["status"] == "cancelled" else None,
        expires_at=iso(job["expires_at"]),
        input_file_id=job["input_file_id"],
        output_file_id=job["output_file_id"],
        error_file_id=job["error_file_id"],
        metadata=_metadata(job),
    )


def openai_view(job: dict[str, Any]) -> OpenAIBatch:
    status, finished = job["status"], _int(job["finished_at"])
    return OpenAIBatch(
        id=job["id"],
        endpoint=job["endpoint"],
        input_file_id=job["input_file_id"] or "",
        completion_window=job["sla"],
        status=status,
        output_file_id=job["output_file_id"],
        error_file_id=job["error_file_id"],
        created_at=int(job["created_at"]),
        in_progress_at=_int(job["started_at"]),
        expires_at=int(job["expires_at"]),
        completed_at=finished if status == "completed" else None,
        failed_at=finished if status == "failed" else None,
        expired_at=finished if status == "expired" else None,
        cancelling_at=_int(job["cancelling_at"]),
        cancelled_at=finished if status == "cancelled" else None,
        request_counts=RequestCounts(
            total=job["total"], completed=job["completed"], failed=job["failed"]
        ),
        metadata=_metadata(job),
    )


def file_view(row: dict[str, Any]) -> FileObject:
    return FileObject(
        id=row["id"],
        bytes=row["bytes"],
        created_at=int(row["created_at"]),
        filename=row["filename"],
        purpose=row["purpose"],
    )
