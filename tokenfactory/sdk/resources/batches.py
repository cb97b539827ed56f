"""``client.batches``: submit a JSONL file, a list of requests or a DataFrame; watch; read results.

Speaks the seed's ``/v1/batch`` dialect. ``create`` and ``retrieve`` return a ``Batch`` that
knows its client, so ``job.wait()``, ``job.results()``, ``job.to_pandas()`` and ``job.cancel()``
work on it directly (with ``AsyncTokenFactory`` use the ``await client.batches.x(id)`` forms).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from pydantic import ConfigDict, PrivateAttr

from .._resource import Resource
from ..types import ResponseMeta

if TYPE_CHECKING:
    import pandas as pd

TERMINAL = ("completed", "failed", "cancelled", "expired")


class Batch(ResponseMeta):
    """One batch job as the gateway reports it (the seed's fields)."""

    model_config = ConfigDict(extra="allow")

    id: str
    object: str = "batch"
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

    _client: Any = PrivateAttr(default=None)

    @property
    def done(self) -> bool:
        return self.status in TERMINAL

    @property
    def finished_requests(self) -> int:
        return self.completed_requests + self.failed_requests

    def _batches(self) -> Batches:
        if self._client is None or self._client._is_async:
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

    def results(self) -> Iterator[dict[str, Any]]:
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

    def __iter__(self):  # type: ignore[override]
        return iter(self.data)

    def __len__(self) -> int:
        return len(self.data)


def build_jsonl(
    file: Any,
    *,
    template: str | None = None,
    model: str | None = None,
    system: str | None = None,
    column: str | None = None,
    custom_id_column: str | None = None,
    **params: Any,
) -> bytes:
    """The JSONL bytes for ``file``: a path, bytes/str of JSONL, a list of dicts, or a
    DataFrame with a prompt ``template`` (``{column}`` placeholders, ``{}`` for ``column``)."""
    if isinstance(file, (bytes, bytearray)):
        return bytes(file)
    if isinstance(file, os.PathLike) or (isinstance(file, str) and "\n" not in file):
        with open(file, "rb") as fh:
            return fh.read()
    if isinstance(file, str):
        return file.encode()
    if hasattr(file, "to_dict") and hasattr(file, "columns"):
        if template is None:
            raise ValueError("a DataFrame needs template='...' to turn each row into a prompt")
        lines = dataframe_lines(file, template, model, system, column, custom_id_column, params)
    elif isinstance(file, Iterable):
        lines = [_as_line(i, row, model, params) for i, row in enumerate(file)]
    else:
        raise TypeError(f"cannot make a batch from {type(file).__name__}")
    return "".join(json.dumps(line) + "\n" for line in lines).encode()


def _as_line(i: int, row: Mapping[str, Any], model: str | None, params: dict) -> dict:
    if not isinstance(row, Mapping):
        raise TypeError(f"item {i} is a {type(row).__name__}, expected a dict")
    if "body" in row:
        return dict(row)
    body = dict(row)
    body.pop("custom_id", None)
    if model and "model" not in body:
        body["model"] = model
    return {"custom_id": str(row.get("custom_id", f"request-{i}")), "body": {**params, **body}}


def dataframe_lines(
    df: Any,
    template: str,
    model: str | None,
    system: str | None,
    column: str | None,
    custom_id_column: str | None,
    params: dict,
) -> list[dict]:
    from ..dataframe import _render

    if model is None:
        from tokenfactory.config import DEFAULT_CHAT_MODEL

        model = DEFAULT_CHAT_MODEL
    prefix = [{"role": "system", "content": system}] if system else []
    lines = []
    for index, row in zip(df.index, df.to_dict("records"), strict=True):
        custom_id = str(row[custom_id_column]) if custom_id_column else str(index)
        messages = [*prefix, {"role": "user", "content": _render(template, row, column)}]
        lines.append(
            {"custom_id": custom_id, "body": {"model": model, "messages": messages, **params}}
        )
    return lines


class Batches(Resource):
    def create(
        self,
        file: Any,
        *,
        sla: str = "24h",
        template: str | None = None,
        model: str | None = None,
        system: str | None = None,
        column: str | None = None,
        custom_id_column: str | None = None,
        endpoint: str | None = None,
        **params: Any,
    ) -> Any:
        """Submit a batch. ``file``: a JSONL path or bytes, a list of request dicts (lines with
        ``custom_id``/``body``, or bare bodies), or a DataFrame with ``template=``. Extra
        keyword arguments (``max_tokens``, ``temperature``) go into every generated body."""
        data = build_jsonl(
            file,
            template=template,
            model=model,
            system=system,
            column=column,
            custom_id_column=custom_id_column,
            **params,
        )
        form = {"sla": sla, "endpoint": endpoint}
        created = self._post(
            "/batch",
            body=form,
            files={"file": ("batch.jsonl", data, "application/jsonl")},
            cast_to=Batch,
        )
        return self._bind(created)

    def retrieve(self, batch_id: str) -> Any:
        return self._bind(self._get(f"/batch/{batch_id}", cast_to=Batch))

    def list(self, *, limit: int = 20, after: str | None = None) -> Any:
        page = self._get("/batch", params={"limit": limit, "after": after}, cast_to=BatchList)
        for job in page.data:
            self._bind(job)
        return page

    def cancel(self, batch_id: str) -> Any:
        return self._bind(self._delete(f"/batch/{batch_id}", cast_to=Batch))

    def results(self, batch_id: str) -> Iterator[dict[str, Any]]:
        """The finished lines' results (OpenAI batch output shape), in input order."""
        text = self._get(f"/batch/{batch_id}/results", cast_to=str)
        return (json.loads(line) for line in text.splitlines() if line.strip())

    def input(self, batch_id: str) -> list[dict[str, Any]]:
        job = self.retrieve(batch_id)
        text = self._get(f"/files/{job.input_file_id}/content", cast_to=str)
        return [json.loads(line) for line in text.splitlines() if line.strip()]

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
        from tqdm.auto import tqdm

        job = job or self.retrieve(batch_id)
        deadline = None if timeout is None else time.monotonic() + timeout
        with tqdm(total=job.total_requests, disable=not progress, desc=batch_id) as bar:
            while True:
                bar.n = job.finished_requests
                bar.set_postfix(status=job.status, failed=job.failed_requests, refresh=False)
                bar.refresh()
                if job.done:
                    return job
                if deadline is not None and time.monotonic() > deadline:
                    raise TimeoutError(f"batch {batch_id} is still {job.status}")
                time.sleep(poll_interval)
                job = job.refresh() if job._client is not None else self.retrieve(batch_id)

    def _bind(self, job: Batch) -> Batch:
        job._client = self._client
        return job


class AsyncBatches(Batches):
    """The async client's batches: the same calls, awaited; no bound helpers on ``Batch``."""

    def _bind(self, job: Any) -> Any:
        return job

    async def results(self, batch_id: str) -> list[dict[str, Any]]:  # type: ignore[override]
        text = await self._get(f"/batch/{batch_id}/results", cast_to=str)
        return [json.loads(line) for line in text.splitlines() if line.strip()]

    async def to_pandas(self, batch_id: str) -> pd.DataFrame:  # type: ignore[override]
        job = await self._get(f"/batch/{batch_id}", cast_to=Batch)
        text = await self._get(f"/files/{job.input_file_id}/content", cast_to=str)
        inputs = [json.loads(line) for line in text.splitlines() if line.strip()]
        return results_frame(inputs, await self.results(batch_id))

    async def wait(  # type: ignore[override]
        self, batch_id: str, *, poll_interval: float = 1.0, timeout: float | None = None, **_: Any
    ) -> Batch:
        import asyncio

        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            job = await self._get(f"/batch/{batch_id}", cast_to=Batch)
            if job.done:
                return job
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError(f"batch {batch_id} is still {job.status}")
            await asyncio.sleep(poll_interval)


def response_text(body: dict[str, Any] | None) -> Any:
    """The useful part of a response body: the message, the text, or the embedding."""
    if not body:
        return None
    if body.get("object") == "list":
        data = body.get("data") or []
        return data[0].get("embedding") if len(data) == 1 else [d.get("embedding") for d in data]
    choices = body.get("choices") or []
    if not choices:
        return None
    first = choices[0]
    if "message" in first:
        return (first.get("message") or {}).get("content")
    return first.get("text")


def results_frame(inputs: list[dict[str, Any]], results: list[dict[str, Any]]) -> pd.DataFrame:
    import pandas as pd

    by_id = {r["custom_id"]: r for r in results}
    rows = []
    for line in inputs:
        result = by_id.get(line["custom_id"], {})
        response = result.get("response") or {}
        body = response.get("body") or {}
        usage = body.get("usage") or {}
        error = result.get("error") or body.get("error")
        rows.append(
            {
                "custom_id": line["custom_id"],
                "request": line.get("body"),
                "status_code": response.get("status_code"),
                "response": None if error else response_text(body),
                "prompt_tokens": usage.get("prompt_tokens"),
                "completion_tokens": usage.get("completion_tokens"),
                "error": None if not error else f"{error.get('code')}: {error.get('message')}",
                "finished": bool(result),
            }
        )
    return pd.DataFrame(rows)
