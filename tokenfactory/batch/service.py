"""The batch feature's front door: submit, list, inspect, cancel, read results.

Both HTTP dialects call this; it validates a file completely before storing a job, and wakes
the runner after every change.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..core import Core
from ..core.endpoints import ENDPOINTS
from ..errors import InvalidRequestError, ResourceInUseError, ResourceNotFoundError
from ..store import Principal
from .files import ResultFiles
from .repository import ACTIVE, BatchRepository
from .runner import BatchRunner
from .validation import Limits, normalise_endpoint, parse_batch
from .wallet import check_wallet

SLA_SECONDS = {"1h": 3600.0, "24h": 86400.0}
#: Test hook: every job's deadline, in seconds after submission (instead of its SLA's).
DEADLINE_ENV = "TOKENFACTORY_BATCH_DEADLINE_S"


def limits_from_env() -> Limits:
    default = Limits()
    return Limits(
        max_lines=int(os.environ.get("TOKENFACTORY_BATCH_MAX_LINES", default.max_lines)),
        max_bytes=int(os.environ.get("TOKENFACTORY_BATCH_MAX_BYTES", default.max_bytes)),
    )


def check_sla(sla: str | None, param: str = "sla") -> str:
    value = (sla or "24h").strip().lower()
    if value not in SLA_SECONDS:
        raise InvalidRequestError(
            f"Invalid {param} '{sla}': expected '1h' or '24h'", param=param, code="invalid_sla"
        )
    return value


#: what /v1/files stores: batch input, and chat JSONL for /v1/fine_tuning/jobs
FILE_PURPOSES = ("batch", "fine-tune")


class BatchService:
    def __init__(
        self,
        core: Core,
        root: Path,
        *,
        limits: Limits | None = None,
        deadline_s: float | None = None,
        max_in_flight: int | None = None,
    ) -> None:
        self.core = core
        self.repo = BatchRepository(core.store)
        self.files = ResultFiles(root, self.repo)
        self.limits = limits or limits_from_env()
        env_deadline = os.environ.get(DEADLINE_ENV)
        self.deadline_s = (
            deadline_s
            if deadline_s is not None
            else (float(env_deadline) if env_deadline else None)
        )
        runner_class = BatchRunner
        if os.environ.get("TOKENFACTORY_BATCH_EXECUTOR", "").lower() == "ray":
            from .ray_executor import RayBatchRunner

            runner_class = RayBatchRunner
        self.runner = runner_class(core, self.repo, self.files, max_in_flight=max_in_flight)

    # -- submit -----------------------------------------------------------------------------
    def upload(self, principal: Principal, data: bytes, filename: str, purpose: str) -> dict:
        if purpose not in FILE_PURPOSES:
            raise InvalidRequestError(
                f"Unsupported file purpose '{purpose}': this gateway accepts "
                + ", ".join(f"'{p}'" for p in FILE_PURPOSES),
                param="purpose",
            )
        self._check_size(data)
        if not data.strip():
            raise InvalidRequestError("The file is empty", param="file", code="empty_file")
        return self.files.save_upload(principal.workspace.id, filename, purpose, data)

    def submit(
        self,
        principal: Principal,
        data: bytes,
        sla: str | None,
        *,
        filename: str = "batch.jsonl",
        endpoint: str | None = None,
        input_file_id: str | None = None,
        metadata: dict | None = None,
    ) -> dict[str, Any]:
        sla = check_sla(sla)
        self._check_size(data)
        if endpoint is not None:
            endpoint = normalise_endpoint(endpoint)
            if endpoint not in ENDPOINTS:
                raise InvalidRequestError(
                    f"Unsupported endpoint '{endpoint}' (supported: {', '.join(ENDPOINTS)})",
                    param="endpoint",
                )
        lines = parse_batch(
            data,
            lambda model, kind: self.core.resolve_model(model, kind, principal),
            self.limits,
            endpoint,
        )
        check_wallet(self.core, principal, sla, lines)
        if input_file_id is None:
            upload = self.files.save_upload(principal.workspace.id, filename, "batch", data)
            input_file_id = upload["id"]
        now = time.time()
        urls = {line.url for line in lines}
        job = {
            "id": f"batch_{uuid.uuid4().hex[:24]}",
            "workspace_id": principal.workspace.id,
            "key_id": principal.key_id,
            "sla": sla,
            "endpoint": endpoint or (urls.pop() if len(urls) == 1 else "mixed"),
            "status": "queued",
            "total": len(lines),
            "input_file_id": input_file_id,
            "metadata": json.dumps(metadata) if metadata else None,
            "created_at": now,
            "expires_at": now + (self.deadline_s or SLA_SECONDS[sla]),
        }
        rows = [(line.line_no, line.custom_id, line.url, line.body) for line in lines]
        created = self.repo.create_job(job, rows)
        self.runner.wake()
        return created

    def submit_file(
        self,
        principal: Principal,
        input_file_id: str,
        endpoint: str,
        completion_window: str | None,
        metadata: dict | None = None,
    ) -> dict[str, Any]:
        """OpenAI's ``POST /v1/batches``: a job over a file uploaded before."""
        sla = check_sla(completion_window, "completion_window")
        row = self.repo.file(input_file_id, principal.workspace.id)
        if row["purpose"] != "batch":
            raise InvalidRequestError(
                f"File '{input_file_id}' has purpose '{row['purpose']}', not 'batch'",
                param="input_file_id",
            )
        data = Path(row["path"]).read_bytes()
        return self.submit(
            principal, data, sla, endpoint=endpoint, input_file_id=input_file_id, metadata=metadata
        )

    def _check_size(self, data: bytes) -> None:
        if len(data) > self.limits.max_bytes:
            raise InvalidRequestError(
                f"The file is {len(data)} bytes; the limit is {self.limits.max_bytes} bytes",
                param="file",
                code="file_too_large",
            )

    # -- inspect ----------------------------------------------------------------------------
    def get(self, principal: Principal, batch_id: str) -> dict[str, Any]:
        return self.repo.job(batch_id, principal.workspace.id)

    def list(
        self, principal: Principal, limit: int = 20, after: str | None = None
    ) -> tuple[list[dict], bool]:
        """A page of jobs, newest first, and whether more follow."""
        if not 1 <= limit <= 100:
            raise InvalidRequestError("'limit' must be between 1 and 100", param="limit")
        jobs = self.repo.jobs(principal.workspace.id, limit + 1, after)
        return jobs[:limit], len(jobs) > limit

    def cancel(self, principal: Principal, batch_id: str) -> dict[str, Any]:
        job = self.repo.request_cancel(batch_id, principal.workspace.id)
        self.runner.wake()
        return job

    def results(self, principal: Principal, batch_id: str) -> Iterator[bytes]:
        """Every finished line's result as JSONL, in input order, read from disk page by page."""
        self.get(principal, batch_id)
        for _, result in self.repo.iter_results(batch_id):
            yield (json.dumps(result) + "\n").encode()

    def delete_file(self, principal: Principal, file_id: str) -> dict[str, Any]:
        """Delete a file and its content; a 409 while a job that has not ended reads it."""
        row = self.repo.file(file_id, principal.workspace.id)
        users = self.repo.jobs_using_file(file_id, ACTIVE)
        if users:
            raise ResourceInUseError(
                f"File '{file_id}' is the input of batch '{users[0]['id']}', which is "
                f"{users[0]['status']}; delete it once that batch has ended",
                param="file_id",
            )
        self.repo.delete_file(file_id, principal.workspace.id)
        Path(row["path"]).unlink(missing_ok=True)
        return row

    def file(self, principal: Principal, file_id: str) -> dict[str, Any]:
        row = self.repo.file(file_id, principal.workspace.id)
        if not Path(row["path"]).exists():
            raise ResourceNotFoundError(
                f"The content of file '{file_id}' is gone", code="file_not_found"
            )
        return row
