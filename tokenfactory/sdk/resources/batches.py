"""``client.batches``: submit a JSONL file, a list of requests or a DataFrame; watch; read results.

Speaks the ``/v1/batch`` dialect (SLA tiers, flat counts). ``create`` and ``retrieve`` return a
``Batch`` that knows its client, so ``job.wait()``, ``job.results()``, ``job.to_pandas()`` and
``job.cancel()`` work on it directly (with ``AsyncTokenFactory`` use the
``await client.batches.x(id)`` forms). Results and inputs are typed lines
(``BatchResultLine``, ``BatchRequestLine`` from ``tokenfactory.wire.batches``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from pydantic import ConfigDict, PrivateAttr

from tokenfactory.wire import batches as wire

from .._jsonl import BatchData, batch_jsonl, parse_jsonl, results_frame
from .._polling import Bar, NoProgress, Poll, async_wait, wait
from .._request import APIRequest
from .._resource import AsyncAPIResource, SyncAPIResource, get_request, post_request
from ..types import ResponseMeta

if TYPE_CHECKING:
    import pandas as pd

    from .._client import TokenFactory

TERMINAL = ("completed", "failed", "cancelled", "expired")
BatchRequestLine = wire.BatchRequestLine
BatchResultLine = wire.BatchResultLine
# names, since the resources' own ``list`` method shadows ``list`` in their bodies
RequestLines = list[BatchRequestLine]
ResultLines = list[BatchResultLine]


class Batch(ResponseMeta, wire.PartialSlaBatch):
    """One batch job as ``/v1/batch`` reports it."""

    _client: TokenFactory | None = PrivateAttr(default=None)

    @property
    def done(self) -> bool:
        return self.status in TERMINAL

    @property
    def finished_requests(self) -> int:
        return self.completed_requests + self.failed_requests

    def _batches(self) -> Batches:
        if self._client is None:
            raise TypeError(
                "this Batch is not bound to a synchronous client; "
                "use `await client.batches.wait(batch.id)` (and results/to_pandas) instead"
            )
        return self._client.batches

    def refresh(self) -> Batch:
        fresh = self._batches().retrieve(self.id)
        for name in type(self).model_fields:
            setattr(self, name, getattr(fresh, name))
        return self

    def wait(
        self, *, poll_interval: float = 1.0, timeout: float | None = None, progress: bool = True
    ) -> Batch:
        """Poll until the job ends, with a tqdm progress bar; returns the job."""
        return self._batches().wait(
            self.id, poll_interval=poll_interval, timeout=timeout, progress=progress, job=self
        )

    def cancel(self) -> Batch:
        self._batches().cancel(self.id)
        return self.refresh()

    def results(self) -> Iterator[BatchResultLine]:
        return self._batches().results(self.id)

    def to_pandas(self) -> pd.DataFrame:
        return self._batches().to_pandas(self.id)

    def _repr_markdown_(self) -> str:
        return (
            f"**{self.id}** · `{self.status}` · sla {self.sla} · "
            f"{self.completed_requests} completed, {self.failed_requests} failed "
            f"of {self.total_requests}"
        )


class BatchList(ResponseMeta):
    model_config = ConfigDict(extra="allow")

    object: str = "list"
    data: list[Batch]
    first_id: str | None = None
    last_id: str | None = None
    has_more: bool = False

    def __iter__(self) -> Iterator[Batch]:  # type: ignore[override]  # BaseModel iterates fields
        return iter(self.data)

    def __len__(self) -> int:
        return len(self.data)


def _create(file: BatchData, sla: str, endpoint: str | None, **lines: Any) -> APIRequest[Batch]:
    data = batch_jsonl(file, **lines)
    files = {"file": ("batch.jsonl", data, "application/jsonl")}
    return post_request("/batch", Batch, {"sla": sla, "endpoint": endpoint}, files)


def _retrieve(batch_id: str) -> APIRequest[Batch]:
    return get_request(f"/batch/{batch_id}", Batch, None)


def _cancel(batch_id: str) -> APIRequest[Batch]:
    return APIRequest("DELETE", f"/batch/{batch_id}", Batch)


def _list(limit: int, after: str | None) -> APIRequest[BatchList]:
    return get_request("/batch", BatchList, {"limit": limit, "after": after})


def _results(batch_id: str) -> APIRequest[str]:
    return get_request(f"/batch/{batch_id}/results", str, None)


def _file_content(file_id: str | None) -> APIRequest[str]:
    return get_request(f"/files/{file_id}/content", str, None)


def _result_lines(text: str) -> ResultLines:
    return [BatchResultLine.model_validate(line) for line in parse_jsonl(text)]


def _request_lines(text: str) -> RequestLines:
    return [BatchRequestLine.model_validate(line) for line in parse_jsonl(text)]


def _poll(batch_id: str, timeout: float | None, interval: float, progress: bool) -> Poll[Batch]:
    return Poll(
        finished=lambda job: job.done,
        describe=lambda job: f"batch {batch_id} is still {job.status}",
        timeout=timeout,
        poll_interval=interval,
        progress=Bar(batch_id, "line", _lines_done) if progress else NoProgress(),
    )


def _lines_done(job: Batch) -> tuple[int, int, dict[str, Any]]:
    return (
        job.finished_requests,
        job.total_requests,
        {"status": job.status, "failed": job.failed_requests},
    )


class Batches(SyncAPIResource):
    """The synchronous client's batches: jobs come back bound, so ``job.wait()`` works."""

    def create(
        self,
        file: BatchData,
        *,
        sla: str = "24h",
        template: str | None = None,
        model: str | None = None,
        system: str | None = None,
        column: str | None = None,
        custom_id_column: str | None = None,
        endpoint: str | None = None,
        **params: Any,
    ) -> Batch:
        """Submit a batch. ``file``: a JSONL path or bytes, a list of request dicts (lines with
        ``custom_id``/``body``, or bare bodies), or a DataFrame with ``template=``. Extra
        keyword arguments (``max_tokens``, ``temperature``) go into every generated body."""
        request = _create(
            file,
            sla,
            endpoint,
            template=template,
            model=model,
            system=system,
            column=column,
            custom_id_column=custom_id_column,
            **params,
        )
        return self._bind(self._client.request(request))

    def retrieve(self, batch_id: str) -> Batch:
        return self._bind(self._client.request(_retrieve(batch_id)))

    def cancel(self, batch_id: str) -> Batch:
        return self._bind(self._client.request(_cancel(batch_id)))

    def list(self, *, limit: int = 20, after: str | None = None) -> BatchList:
        page = self._client.request(_list(limit, after))
        for job in page.data:
            self._bind(job)
        return page

    def results(self, batch_id: str) -> Iterator[BatchResultLine]:
        """The finished lines' results (OpenAI batch output shape), in input order."""
        return iter(_result_lines(self._client.request(_results(batch_id))))

    def input(self, batch_id: str) -> RequestLines:
        job = self.retrieve(batch_id)
        return _request_lines(self._client.request(_file_content(job.input_file_id)))

    def to_pandas(self, batch_id: str) -> pd.DataFrame:
        """One row per custom_id: the request, the response text, token counts, the error."""
        return results_frame(self.input(batch_id), list(self.results(batch_id)))

    def wait(
        self,
        batch_id: str,
        *,
        poll_interval: float = 1.0,
        timeout: float | None = None,
        progress: bool = True,
        job: Batch | None = None,
    ) -> Batch:
        """Poll until the job ends, with a tqdm progress bar; returns the job."""
        job = job or self.retrieve(batch_id)
        poll = _poll(batch_id, timeout, poll_interval, progress)
        fetch = job.refresh if job._client is not None else lambda: self.retrieve(batch_id)
        return wait(poll, fetch, job)

    def _bind(self, job: Batch) -> Batch:
        job._client = self._client
        return job


class AsyncBatches(AsyncAPIResource):
    """The async client's batches: the same calls, awaited; no bound helpers on ``Batch``."""

    async def create(
        self,
        file: BatchData,
        *,
        sla: str = "24h",
        template: str | None = None,
        model: str | None = None,
        system: str | None = None,
        column: str | None = None,
        custom_id_column: str | None = None,
        endpoint: str | None = None,
        **params: Any,
    ) -> Batch:
        request = _create(
            file,
            sla,
            endpoint,
            template=template,
            model=model,
            system=system,
            column=column,
            custom_id_column=custom_id_column,
            **params,
        )
        return await self._client.request(request)

    async def retrieve(self, batch_id: str) -> Batch:
        return await self._client.request(_retrieve(batch_id))

    async def cancel(self, batch_id: str) -> Batch:
        return await self._client.request(_cancel(batch_id))

    async def list(self, *, limit: int = 20, after: str | None = None) -> BatchList:
        return await self._client.request(_list(limit, after))

    async def results(self, batch_id: str) -> ResultLines:
        return _result_lines(await self._client.request(_results(batch_id)))

    async def input(self, batch_id: str) -> RequestLines:
        job = await self.retrieve(batch_id)
        return _request_lines(await self._client.request(_file_content(job.input_file_id)))

    async def to_pandas(self, batch_id: str) -> pd.DataFrame:
        return results_frame(await self.input(batch_id), await self.results(batch_id))

    async def wait(
        self,
        batch_id: str,
        *,
        poll_interval: float = 1.0,
        timeout: float | None = None,
        progress: bool = False,
    ) -> Batch:
        poll = _poll(batch_id, timeout, poll_interval, progress)
        return await async_wait(poll, lambda: self.retrieve(batch_id))
