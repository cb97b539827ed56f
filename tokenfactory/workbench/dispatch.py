"""Run chat request bodies on the gateway: as one durable batch job, or interactively.

A batch job is what ``client.batches.create`` makes: stored, resumable after a restart, run
below interactive priority and metered at the batch tier, visible in ``tf.BatchMonitor`` and
the sidebar. ``interactive=True`` sends the same bodies as ordinary requests, a few at a time
(for a handful of rows, where waiting for the batch runner would only add latency). Both give
one :class:`LineResult` per ``custom_id``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tokenfactory.sdk import TokenFactory


@dataclass
class Line:
    custom_id: str
    body: dict[str, Any]


@dataclass
class LineResult:
    custom_id: str
    answer: str | None = None
    logprobs: list[dict[str, Any]] | None = None  # the chat ``logprobs.content`` entries
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    latency_s: float | None = None
    finish_reason: str | None = None
    error: str | None = None

    @classmethod
    def from_body(cls, custom_id: str, body: dict[str, Any], latency_s: float | None) -> LineResult:
        usage = body.get("usage") or {}
        choices = body.get("choices") or [{}]
        first = choices[0]
        message = first.get("message") or {}
        return cls(
            custom_id,
            answer=message.get("content"),
            logprobs=(first.get("logprobs") or {}).get("content"),
            prompt_tokens=usage.get("prompt_tokens"),
            completion_tokens=usage.get("completion_tokens"),
            latency_s=latency_s,
            finish_reason=first.get("finish_reason"),
        )

    @classmethod
    def failed(cls, custom_id: str, error: str) -> LineResult:
        return cls(custom_id, error=error)


@dataclass
class Run:
    """What one dispatch gave: results by custom_id, the batch job's id, and its tier."""

    results: dict[str, LineResult]
    batch_id: str | None
    tier: str  # realtime | batch_1h | batch_24h


def run_lines(
    client: TokenFactory,
    lines: Sequence[Line],
    *,
    interactive: bool,
    sla: str = "24h",
    concurrency: int = 8,
    progress: bool = True,
    desc: str = "requests",
    poll_interval: float = 0.5,
    on_submit: Callable[[str], None] | None = None,
) -> Run:
    if not lines:
        return Run({}, None, "realtime" if interactive else f"batch_{sla}")
    if interactive:
        return Run(_interactive(client, lines, concurrency, progress, desc), None, "realtime")
    requests = [{"custom_id": x.custom_id, "body": x.body} for x in lines]
    job = client.batches.create(requests, sla=sla)
    if on_submit is not None:
        on_submit(job.id)
    return Run(wait_for_job(client, job.id, progress, poll_interval), job.id, f"batch_{sla}")


def wait_for_job(
    client: TokenFactory, batch_id: str, progress: bool = True, poll_interval: float = 0.5
) -> dict[str, LineResult]:
    """Wait for a batch job and read its results (an existing job: ``EvalResult.from_job``)."""
    client.batches.wait(batch_id, progress=progress, poll_interval=poll_interval)
    lines = client.batches.results(batch_id)
    return {line.custom_id: result_of(line.model_dump()) for line in lines}


def result_of(line: dict[str, Any]) -> LineResult:
    """One line of a batch's output (OpenAI's batch output shape)."""
    custom_id = line["custom_id"]
    response = line.get("response") or {}
    body = response.get("body") or {}
    error = line.get("error") or body.get("error")
    if error:
        return LineResult.failed(custom_id, f"{error.get('code')}: {error.get('message')}")
    return LineResult.from_body(custom_id, body, response.get("latency_s"))


def _interactive(
    client: TokenFactory, lines: Sequence[Line], concurrency: int, progress: bool, desc: str
) -> dict[str, LineResult]:
    from tqdm.auto import tqdm

    def ask(line: Line) -> LineResult:
        started = time.perf_counter()
        response = client.chat.completions.create(**line.body)
        latency = time.perf_counter() - started
        body = response.model_dump(mode="json", exclude_none=True)
        return LineResult.from_body(line.custom_id, body, latency)

    out: dict[str, LineResult] = {}
    with (
        ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool,
        tqdm(total=len(lines), disable=not progress, desc=desc) as bar,
    ):
        futures = {pool.submit(ask, line): line.custom_id for line in lines}
        for future in as_completed(futures):
            custom_id = futures[future]
            try:
                out[custom_id] = future.result()
            except Exception as exc:  # a failed row is data, not a reason to stop the rest
                out[custom_id] = LineResult.failed(custom_id, _describe(exc))
            bar.update(1)
    return out


def _describe(exc: BaseException) -> str:
    code = getattr(exc, "code", None)
    message = getattr(exc, "message", None) or str(exc)
    return f"{code}: {message}" if code else f"{type(exc).__name__}: {message}"
