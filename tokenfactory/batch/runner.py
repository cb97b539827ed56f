"""The background loop that runs batch jobs on the gateway's engine.

One asyncio task on the server's loop keeps up to ``max_in_flight`` lines running at once
(enough to fill the engine's batch), taken from 1h jobs before 24h jobs, each at its tier's
priority so interactive requests go first. Each finished line is committed on its own
together with its usage (``BatchRepository.finish_line`` inside ``Core.commit_usage``). After
a crash, lines that were in flight have neither a result nor a bill and simply run again;
lines with a result are never run again, so each line is billed exactly once.

The runner starts no line before the gateway is ready (the adapters trained before are attached
again by then). A line that meets a passing 503 (a model or adapter still loading, the engine
not up) is not given that answer as its result: it stays pending and runs again after a
back-off, until it has a real answer or its job ends (cancelled, expired). A job is marked
finished only once its result files are written, in the same update that names them.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import sqlite3
import time
from typing import Any

from ..core import Core
from ..core.records import JobEvent
from ..engine.protocol import PRIORITY_BATCH_1H, PRIORITY_BATCH_24H
from ..faults import crash_point
from ..store import Principal
from .executor import LineExecutor, LineOutcome, error_line
from .files import ResultFiles
from .repository import BatchRepository

log = logging.getLogger("tokenfactory.batch")

PRIORITY = {"1h": PRIORITY_BATCH_1H, "24h": PRIORITY_BATCH_24H}
TIER = {"1h": "batch_1h", "24h": "batch_24h"}
RETRY_FIRST_S = 0.5  # a line that met a passing 503 runs again after this, doubling each time
RETRY_MAX_S = 30.0


class BatchRunner:
    def __init__(
        self,
        core: Core,
        repo: BatchRepository,
        files: ResultFiles,
        *,
        max_in_flight: int | None = None,
        poll_interval: float = 0.5,
    ) -> None:
        self.core = core
        self.repo = repo
        self.files = files
        self.executor = LineExecutor(core)
        self._max_in_flight = max_in_flight
        self.poll_interval = poll_interval
        self._inflight: dict[tuple[str, int], asyncio.Task] = {}
        self._retries: dict[tuple[str, int], tuple[int, float]] = {}  # -> (tries, not before)
        self._principals: dict[tuple[str, str], Principal] = {}
        self._wake: asyncio.Event | None = None
        self._task: asyncio.Task | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping = False
        self.left_at_stop = 0  # lines in flight when it last stopped (they stay pending)

    @property
    def max_in_flight(self) -> int:
        """Lines running at once: what the engine asks for (``batch_lines_in_flight``: vLLM,
        known once started), else twice the rows it decodes together (the TransformersEngine
        pauses batch rows for interactive requests, so it can be kept full)."""
        if self._max_in_flight:
            return self._max_in_flight
        engine = self.core.engine
        asked = getattr(engine, "batch_lines_in_flight", None)
        if asked:
            return int(asked)
        return 2 * int(getattr(engine, "max_batch_size", None) or 16)

    @max_in_flight.setter
    def max_in_flight(self, value: int) -> None:
        self._max_in_flight = value

    # -- lifecycle --------------------------------------------------------------------------
    async def start(self) -> None:
        self._stopping = False
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        self._task = asyncio.create_task(self._run(), name="tokenfactory-batch-runner")

    async def stop(self) -> None:
        # A flag, not only task.cancel(): Python 3.11's wait_for can swallow a cancellation.
        self._stopping = True
        if self._task is not None and self._wake is not None:
            self._wake.set()
            done, _ = await asyncio.wait({self._task}, timeout=5)
            if not done:
                self._task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await asyncio.wait({self._task}, timeout=5)
        self.left_at_stop = len(self._inflight)
        await self._cancel_tasks(list(self._inflight))  # nothing committed: they run again
        self._task = None

    def wake(self) -> None:
        """Called after a submit or a cancel, from any thread."""
        if self._loop is None or self._wake is None:
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is self._loop:
            self._wake.set()
        else:
            self._loop.call_soon_threadsafe(self._wake.set)

    @property
    def in_flight(self) -> int:
        return len(self._inflight)

    # -- the loop ---------------------------------------------------------------------------
    async def _run(self) -> None:
        assert self._wake is not None
        while not self.core.ready and not self._stopping:  # adapters attached, remote probed
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.poll_interval)
            self._wake.clear()
        for job in self.repo.unfinalized_jobs():
            self._finalize(job, job["status"])
        while not self._stopping:
            try:
                await self.step()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("batch runner step failed")
            assert self._wake is not None
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.poll_interval)
            self._wake.clear()

    async def step(self) -> None:
        """One pass: end expired and cancelled jobs, start lines, finish drained jobs."""
        now = time.time()
        jobs = self.repo.active_jobs()
        for job in jobs:
            if job["status"] == "cancelling":
                await self._close(job, "cancelled", "batch_cancelled", "The batch was cancelled")
            elif job["expires_at"] <= now:
                await self._close(
                    job, "expired", "batch_expired", "The batch did not finish within its SLA"
                )
        for job in self.repo.active_jobs():
            self._fill(job)
        for job in self.repo.active_jobs():
            idle = job["status"] != "cancelling" and not self._job_tasks(job["id"])
            if idle and self.repo.count_pending(job["id"]) == 0:
                self._complete(job)

    def _fill(self, job: dict[str, Any]) -> None:
        free = self.max_in_flight - len(self._inflight)
        if free <= 0 or job["status"] == "cancelling":
            return
        lines = self.repo.pending_lines(job["id"], free, self._not_now(job["id"]))
        if lines and job["status"] == "queued":
            self.repo.set_status(
                job["id"], "in_progress", expect=("queued",), started_at=time.time()
            )
        for line in lines:
            key = (job["id"], line["line_no"])
            task = asyncio.create_task(self._run_line(job, line))
            self._inflight[key] = task
            task.add_done_callback(functools.partial(self._done, key))

    def _not_now(self, batch_id: str) -> set[int]:
        """A job's lines not to start now: running, or waiting out a retry's back-off."""
        now = time.monotonic()
        running = {n for (b, n) in self._inflight if b == batch_id}
        backing_off = {n for (b, n), (_, t) in self._retries.items() if b == batch_id and t > now}
        return running | backing_off

    def _done(self, key: tuple[str, int], _task: object = None) -> None:
        self._inflight.pop(key, None)
        if self._wake is not None:
            self._wake.set()

    def _retry_later(self, job: dict[str, Any], line: dict[str, Any], why: str) -> None:
        key = (job["id"], line["line_no"])
        tries = self._retries.get(key, (0, 0.0))[0] + 1
        wait = min(RETRY_MAX_S, RETRY_FIRST_S * 2 ** (tries - 1))
        self._retries[key] = (tries, time.monotonic() + wait)
        level = logging.INFO if tries == 1 else logging.DEBUG
        log.log(level, "batch %s line %s runs again in %.1f s: %s", *key, wait, why)

    async def _run_line(self, job: dict[str, Any], line: dict[str, Any]) -> None:
        try:
            outcome = await self._outcome(job, line)
            if outcome.retry:  # nothing committed: the line stays pending
                self._retry_later(job, line, outcome.retry)
                return
            self._retries.pop((job["id"], line["line_no"]), None)
            crash_point("batch.line_ran")

            def write_result(conn: sqlite3.Connection) -> bool:
                written = self.repo.finish_line(
                    conn, job["id"], line["line_no"], outcome.ok, outcome.result
                )
                crash_point("batch.line_committing")
                return written

            # the line's result and its usage (wallet debit) in one transaction: billed once
            self.core.commit_usage(outcome.usage, together_with=write_result)
        finally:  # a cancelled or failed line gives back its wallet hold
            self.core.release_admissions()

    async def _outcome(self, job: dict[str, Any], line: dict[str, Any]) -> LineOutcome:
        try:
            principal = self._principal(job)
            return await self.executor.run(
                principal, TIER[job["sla"]], PRIORITY[job["sla"]], line, json.loads(line["body"])
            )
        except Exception as exc:  # never leave a line to be retried forever
            log.exception("batch %s line %s failed", job["id"], line["line_no"])
            return LineOutcome(False, error_line(line["custom_id"], "server_error", str(exc)))

    def _principal(self, job: dict[str, Any]) -> Principal:
        """The key that submitted the job: its lines are metered under that key."""
        submitter = (job["workspace_id"], job["key_id"] or "")
        cached = self._principals.get(submitter)
        if cached is None:
            cached = Principal(self.core.keys.workspace(submitter[0]), submitter[1])
            self._principals[submitter] = cached
        return cached

    def _job_tasks(self, batch_id: str) -> list[tuple[str, int]]:
        return [key for key in self._inflight if key[0] == batch_id]

    async def _cancel_tasks(self, keys: list[tuple[str, int]]) -> None:
        tasks = [self._inflight[k] for k in keys if k in self._inflight]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _close(self, job: dict[str, Any], status: str, code: str, message: str) -> None:
        """Stop a job's running lines; its unfinished lines end with an error; keep the rest."""
        await self._cancel_tasks(self._job_tasks(job["id"]))
        for key in [k for k in self._retries if k[0] == job["id"]]:
            del self._retries[key]
        self.repo.close_pending(
            job["id"], lambda row: error_line(row["custom_id"], code, message), status == "expired"
        )
        if self._finalize(self.repo.job(job["id"]), status):
            self._ended(job, status)

    def _complete(self, job: dict[str, Any]) -> None:
        job = self.repo.job(job["id"])
        status = "failed" if job["completed"] == 0 and job["failed"] > 0 else "completed"
        if self._finalize(job, status, expect=("queued", "in_progress")):
            self._ended(job, status)

    def _finalize(self, job: dict[str, Any], status: str, expect: tuple[str, ...] = ()) -> bool:
        """Write the job's result files, then give it its final status, finish time and file
        ids in one update: a job is never seen finished without its files. (A crash in between
        leaves it unfinished, and the next pass does both again.) True if the status changed."""
        ids = self.files.write(job)
        crash_point("batch.job_finishing")
        return self.repo.set_status(
            job["id"], status, expect=expect, finished_at=time.time(), **ids
        )

    def _ended(self, job: dict[str, Any], status: str) -> None:
        self.core.job_ended(JobEvent(job["workspace_id"], f"batch.{status}", job["id"]))
