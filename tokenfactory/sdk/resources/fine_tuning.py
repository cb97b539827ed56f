"""``client.fine_tuning.jobs``: OpenAI's fine-tuning dialect over the gateway's LoRA jobs.

    f = client.files.create(file="train.jsonl", purpose="fine-tune")
    job = client.fine_tuning.jobs.create(model=CHAT, training_file=f.id,
                                         hyperparameters={"n_epochs": 2})
    job = client.fine_tuning.jobs.wait(job.id)     # polls until it ends
    client.chat.completions.create(model=job.fine_tuned_model, messages=[...])

The same job is an adapter of ``client.adapters`` (named by ``fine_tuned_model``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from functools import cached_property
from typing import TYPE_CHECKING, Any

from typing_extensions import Unpack

from tokenfactory.wire import fine_tuning as wire

from .._polling import NoProgress, Poll, async_wait, wait
from .._request import APIRequest, RequestOptions
from .._resource import AsyncAPIResource, SyncAPIResource, get_request, post_request
from ..types import ResponseMeta

if TYPE_CHECKING:
    import pandas as pd

FINISHED = ("succeeded", "failed", "cancelled")


class FineTuningJob(ResponseMeta, wire.FineTuningJob):
    def _repr_markdown_(self) -> str:
        model = f" → `{self.fine_tuned_model}`" if self.fine_tuned_model else ""
        error = f"  \n{self.error.message}" if self.error else ""
        return f"**{self.id}** (`{self.model}`): {self.status}{model}{error}"


class FineTuningJobList(ResponseMeta, wire.FineTuningJobList):
    data: list[FineTuningJob]  # type: ignore[assignment]  # the SDK's own job type

    def __iter__(self) -> Iterator[FineTuningJob]:  # type: ignore[override]  # the jobs
        return iter(self.data)

    def __len__(self) -> int:
        return len(self.data)


class FineTuningJobEventList(ResponseMeta, wire.FineTuningJobEventList):
    def __iter__(self) -> Iterator[wire.FineTuningJobEvent]:  # type: ignore[override]
        return iter(self.data)

    def __len__(self) -> int:
        return len(self.data)

    def to_pandas(self) -> pd.DataFrame:
        """One row per event, oldest first, with the metrics (step, train_loss, ...) as
        columns."""
        import pandas as pd

        rows = [
            {"created_at": e.created_at, "type": e.type, "message": e.message, **(e.data or {})}
            for e in reversed(self.data)
        ]
        return pd.DataFrame(rows)


class FineTuningJobCheckpointList(ResponseMeta, wire.FineTuningJobCheckpointList):
    def __iter__(self) -> Iterator[wire.FineTuningJobCheckpoint]:  # type: ignore[override]
        return iter(self.data)

    def __len__(self) -> int:
        return len(self.data)


FineTuningJobEvent = wire.FineTuningJobEvent
FineTuningJobCheckpoint = wire.FineTuningJobCheckpoint


class JobParams(RequestOptions, total=False):
    """``tokenfactory.wire.fine_tuning.FineTuningJobCreate`` less ``model``/``training_file``."""

    validation_file: str | None
    hyperparameters: Mapping[str, Any] | None  # n_epochs, batch_size, learning_rate_multiplier
    method: Mapping[str, Any] | None  # {"type": "supervised", "supervised": {...}}: rank, ...
    suffix: str | None
    seed: int | None
    metadata: Mapping[str, str] | None


def _create(model: str, training_file: str, params: JobParams) -> APIRequest[FineTuningJob]:
    body = {"model": model, "training_file": training_file, **params}
    return post_request("/fine_tuning/jobs", FineTuningJob, body)


def _jobs(
    after: str | None, limit: int | None, options: RequestOptions
) -> APIRequest[FineTuningJobList]:
    query = {"after": after, "limit": limit, **options}
    return get_request("/fine_tuning/jobs", FineTuningJobList, query)


def _events(
    job_id: str, after: str | None, limit: int | None, options: RequestOptions
) -> APIRequest[FineTuningJobEventList]:
    query = {"after": after, "limit": limit, **options}
    return get_request(f"/fine_tuning/jobs/{job_id}/events", FineTuningJobEventList, query)


def _checkpoints(
    job_id: str, limit: int | None, options: RequestOptions
) -> APIRequest[FineTuningJobCheckpointList]:
    query = {"limit": limit, **options}
    path = f"/fine_tuning/jobs/{job_id}/checkpoints"
    return get_request(path, FineTuningJobCheckpointList, query)


def _cancel(job_id: str, options: RequestOptions) -> APIRequest[FineTuningJob]:
    return post_request(f"/fine_tuning/jobs/{job_id}/cancel", FineTuningJob, dict(options))


def _poll(job_id: str, timeout: float | None, interval: float) -> Poll[FineTuningJob]:
    return Poll(
        finished=lambda job: job.status in FINISHED,
        describe=lambda job: f"fine-tuning job {job_id} is still {job.status}",
        timeout=timeout,
        poll_interval=interval,
        progress=NoProgress(),
    )


class Jobs(SyncAPIResource):
    def create(
        self, *, model: str, training_file: str, **params: Unpack[JobParams]
    ) -> FineTuningJob:
        """Start a LoRA fine-tuning job on ``training_file`` (uploaded with purpose fine-tune)."""
        return self._client.request(_create(model, training_file, params))

    def list(
        self,
        *,
        after: str | None = None,
        limit: int | None = None,
        **options: Unpack[RequestOptions],
    ) -> FineTuningJobList:
        return self._client.request(_jobs(after, limit, options))

    def retrieve(self, job_id: str, **options: Unpack[RequestOptions]) -> FineTuningJob:
        return self._get(f"/fine_tuning/jobs/{job_id}", cast_to=FineTuningJob, params=options)

    def cancel(self, job_id: str, **options: Unpack[RequestOptions]) -> FineTuningJob:
        return self._client.request(_cancel(job_id, options))

    def list_events(
        self,
        job_id: str,
        *,
        after: str | None = None,
        limit: int | None = None,
        **options: Unpack[RequestOptions],
    ) -> FineTuningJobEventList:
        """Newest first: status changes, the loss per step, the validation loss per epoch."""
        return self._client.request(_events(job_id, after, limit, options))

    def list_checkpoints(
        self, job_id: str, *, limit: int | None = None, **options: Unpack[RequestOptions]
    ) -> FineTuningJobCheckpointList:
        """One per epoch; each ``fine_tuned_model_checkpoint`` is a servable model name."""
        return self._client.request(_checkpoints(job_id, limit, options))

    def wait(
        self, job_id: str, *, timeout: float | None = None, poll_interval: float = 1.0
    ) -> FineTuningJob:
        """Poll until the job succeeds, fails or is cancelled."""
        return wait(_poll(job_id, timeout, poll_interval), lambda: self.retrieve(job_id))


class AsyncJobs(AsyncAPIResource):
    async def create(
        self, *, model: str, training_file: str, **params: Unpack[JobParams]
    ) -> FineTuningJob:
        return await self._client.request(_create(model, training_file, params))

    async def list(
        self,
        *,
        after: str | None = None,
        limit: int | None = None,
        **options: Unpack[RequestOptions],
    ) -> FineTuningJobList:
        return await self._client.request(_jobs(after, limit, options))

    async def retrieve(self, job_id: str, **options: Unpack[RequestOptions]) -> FineTuningJob:
        path = f"/fine_tuning/jobs/{job_id}"
        return await self._get(path, cast_to=FineTuningJob, params=options)

    async def cancel(self, job_id: str, **options: Unpack[RequestOptions]) -> FineTuningJob:
        return await self._client.request(_cancel(job_id, options))

    async def list_events(
        self,
        job_id: str,
        *,
        after: str | None = None,
        limit: int | None = None,
        **options: Unpack[RequestOptions],
    ) -> FineTuningJobEventList:
        return await self._client.request(_events(job_id, after, limit, options))

    async def list_checkpoints(
        self, job_id: str, *, limit: int | None = None, **options: Unpack[RequestOptions]
    ) -> FineTuningJobCheckpointList:
        return await self._client.request(_checkpoints(job_id, limit, options))

    async def wait(
        self, job_id: str, *, timeout: float | None = None, poll_interval: float = 1.0
    ) -> FineTuningJob:
        poll = _poll(job_id, timeout, poll_interval)
        return await async_wait(poll, lambda: self.retrieve(job_id))


class FineTuning(SyncAPIResource):
    """``client.fine_tuning``: a namespace, as in openai-python."""

    @cached_property
    def jobs(self) -> Jobs:
        return Jobs(self._client)


class AsyncFineTuning(AsyncAPIResource):
    @cached_property
    def jobs(self) -> AsyncJobs:
        return AsyncJobs(self._client)


__all__ = [
    "AsyncFineTuning",
    "FineTuning",
    "FineTuningJob",
    "FineTuningJobCheckpoint",
    "FineTuningJobCheckpointList",
    "FineTuningJobEvent",
    "FineTuningJobEventList",
    "FineTuningJobList",
    "JobParams",
]
