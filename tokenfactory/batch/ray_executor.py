"""Batch lines for remote models as a Ray Data pipeline (``TOKENFACTORY_BATCH_EXECUTOR=ray``).

The job store, its line states and the exactly-once commit are the ordinary runner's
(:class:`~tokenfactory.batch.runner.BatchRunner`), and so is each line's path through the
service: every line of a remote model still runs ``BatchRunner._run_line`` (validation,
admission against the workspace's limits and wallet, metering, the commit of its result with
its usage). Only the last hop changes: instead of the gateway's replica pool, the line's
upstream request joins a chunk (``remote.services.transport``, set in the line's own task),
and each chunk becomes a Ray dataset whose ``map_batches`` tasks POST the lines to the
model's replicas (bounded: ``concurrency`` tasks x ``threads`` requests each). Answers stream
back to the lines waiting for them in the gateway.

Faults: a killed Ray worker's task is retried by Ray, and only a finished task's results come
back, so a line is committed once; a line no replica answered, and every line of a chunk Ray
itself failed on, is not committed and runs again on a later pass (after ``RETRY_AFTER_S``,
until its SLA expires); a gateway killed mid-chunk leaves the uncommitted lines pending, and
the restarted gateway runs them (the committed ones never again).

Ray: ``ray.init()`` starts a local instance by default (see :func:`ensure_ray`);
``TOKENFACTORY_RAY_ADDRESS`` (or ``RAY_ADDRESS``) joins an existing cluster, whose workers
need ``tokenfactory`` installed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any

from ..core.endpoints import ENDPOINTS
from ..remote.errors import error_for_status
from ..remote.registry import RemoteModels
from ..remote.services import RemoteCall, transport
from .runner import BatchRunner

log = logging.getLogger("tokenfactory.batch")

ENV_EXECUTOR = "TOKENFACTORY_BATCH_EXECUTOR"
CHUNK_LINES = int(os.environ.get("TOKENFACTORY_RAY_CHUNK", "1024"))
TASKS = int(os.environ.get("TOKENFACTORY_RAY_CONCURRENCY", "4"))
THREADS = int(os.environ.get("TOKENFACTORY_RAY_THREADS", "8"))
LINES_PER_TASK = 32
RETRY_AFTER_S = 10.0  # before lines that were not answered are sent again
_ray_lock = threading.Lock()


def ensure_ray() -> Any:
    """``ray``, initialised once per process (local by default, a cluster by address)."""
    import ray

    with _ray_lock:
        if not ray.is_initialized():
            address = os.environ.get("TOKENFACTORY_RAY_ADDRESS") or os.environ.get("RAY_ADDRESS")
            if address:
                ray.init(address=address, log_to_driver=False)
            else:
                _start_local(ray)
            ray.data.DataContext.get_current().enable_progress_bars = False
    return ray


START_ATTEMPTS = 3


def _start_local(ray: Any) -> None:
    """Start a local Ray node for this process, sized for the batch pipeline.

    ``num_cpus`` is what the pipeline uses (one per ``map_batches`` task, plus one), not the
    machine's count: Ray starts a worker process per CPU up front. A start that fails (Ray's
    raylet gives the node's agents a fixed time to come up, which a busy machine can exceed)
    is cleaned up and tried again, a few times, before the error is raised.
    """
    mb = int(os.environ.get("TOKENFACTORY_RAY_OBJECT_STORE_MB", "256"))
    options: dict[str, Any] = {
        "include_dashboard": False,
        "log_to_driver": False,
        "num_cpus": int(os.environ.get("TOKENFACTORY_RAY_NUM_CPUS", str(TASKS + 1))),
        "object_store_memory": mb * 1024 * 1024,
    }
    for attempt in range(1, START_ATTEMPTS + 1):
        try:
            ray.init(**options)
            return
        except Exception as exc:
            _end_ray_children()
            if attempt == START_ATTEMPTS:
                raise
            log.warning("Ray's local node did not start (%s); trying again", exc)
            time.sleep(2.0 * attempt)


def _end_ray_children() -> None:
    """A local Ray that failed to start leaves some of its processes behind: end those this
    process started (and only those)."""
    with contextlib.suppress(Exception):
        import ray

        ray.shutdown()
    try:
        import psutil
    except ImportError:
        return
    for child in psutil.Process().children(recursive=True):
        with contextlib.suppress(psutil.Error):
            cmdline = " ".join(child.cmdline())
            if "/ray/" in cmdline or cmdline.startswith("ray::"):
                child.kill()


# -- what runs in the Ray workers -----------------------------------------------------------
def _send(client: Any, targets: list[dict], start: int, path: str, body: dict) -> tuple[int, str]:
    """POST one line to a replica; on a connection error or 503, once more to the next one.
    ``(0, message)`` when no replica answered (the line stays pending)."""
    import httpx

    last = "no upstream"
    for attempt in range(min(2, len(targets))):
        target = targets[(start + attempt) % len(targets)]
        payload = {**body, "model": target["model"]}
        headers = {"Authorization": f"Bearer {target['key']}"} if target["key"] else {}
        try:
            resp = client.post(target["url"] + path, json=payload, headers=headers)
        except httpx.TransportError as exc:
            last = f"{target['url']}: {type(exc).__name__}: {exc}"
            continue
        if resp.status_code == 503:
            last = f"{target['url']}: 503"
            continue
        return resp.status_code, resp.text
    return 0, last


def send_lines(batch: dict[str, Any], targets: list[dict], threads: int) -> dict[str, Any]:
    """Ray Data ``map_batches`` function: each line of ``batch`` to an upstream replica."""
    import httpx

    line_nos = [int(n) for n in batch["line_no"]]
    timeout = httpx.Timeout(600.0, connect=5.0)
    with httpx.Client(timeout=timeout) as client, ThreadPoolExecutor(max(1, threads)) as pool:
        futures = [
            pool.submit(_send, client, targets, n, str(p), json.loads(str(b)))
            for n, p, b in zip(line_nos, batch["path"], batch["body"], strict=True)
        ]
        answers = [f.result() for f in futures]
    return {
        "line_no": line_nos,
        "status": [status for status, _ in answers],
        "response": [text for _, text in answers],
    }


# -- the gateway side -----------------------------------------------------------------------
class RayChunk:
    """The lines of one model taken in one pass: each line's task admits it as usual, then
    hands its upstream request here (``send``); once every line has either done so or ended
    (refused at admission), the requests go through Ray and the answers back to the lines."""

    def __init__(self, runner: RayBatchRunner, model: str, line_nos: list[int]) -> None:
        self.runner = runner
        self.model = model
        self._loop = asyncio.get_running_loop()
        self._waiting = set(line_nos)  # neither sent nor ended yet
        self._ready = asyncio.Event()
        self.requests: dict[int, tuple[str, dict[str, Any]]] = {}
        self._answers: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self.stop = threading.Event()

    async def send(self, line_no: int, call: RemoteCall) -> dict[str, Any]:
        """The ``transport`` of one line's task: its upstream's JSON answer."""
        answer = self._loop.create_future()
        self.requests[line_no] = (call.path, call.body)
        self._answers[line_no] = answer
        self.ended(line_no)
        return await answer

    def ended(self, line_no: int) -> None:
        self._waiting.discard(line_no)
        if not self._waiting:
            self._ready.set()

    async def run(self) -> None:
        await self._ready.wait()
        if not self.requests:
            return
        try:
            await asyncio.to_thread(self._pipeline)
        except asyncio.CancelledError:
            self.stop.set()
            raise
        except Exception:  # Ray itself failed: the lines stay pending and run again
            log.exception("Ray pipeline for %s failed; its lines run again later", self.model)
        finally:
            unanswered = [n for n, answer in self._answers.items() if not answer.done()]
            if unanswered:
                self._defer(unanswered)

    def _pipeline(self) -> None:
        ray = ensure_ray()
        targets = self.runner.targets(self.model)
        rows = [
            {"line_no": n, "path": path, "body": json.dumps(body)}
            for n, (path, body) in self.requests.items()
        ]
        dataset = ray.data.from_items(
            rows, override_num_blocks=max(1, len(rows) // 64)
        ).map_batches(
            send_lines,
            batch_size=LINES_PER_TASK,
            fn_kwargs={"targets": targets, "threads": THREADS},
            concurrency=TASKS,
            max_retries=5,
        )
        for out in dataset.iter_rows():
            if self.stop.is_set() or self._loop.is_closed():
                return
            answer = (int(out["line_no"]), int(out["status"]), str(out["response"]))
            self._loop.call_soon_threadsafe(self._answer, *answer)

    def _answer(self, line_no: int, status: int, text: str) -> None:
        answer = self._answers[line_no]
        if answer.done():
            return
        if status == 0:
            log.warning("batch line %s: no upstream answered (%s)", line_no, text)
            self._defer([line_no])
            return
        path = self.requests[line_no][0]
        if status == 200:
            try:
                answer.set_result(json.loads(text))
                return
            except ValueError:
                status, text = 502, f"the upstream sent invalid JSON: {text[:200]}"
        # the same mapping as a request through the replica pool
        answer.set_exception(error_for_status(status, text.encode(), "(via Ray)", path))

    def _defer(self, line_nos: list[int]) -> None:
        """Leave these lines pending: their tasks end without committing anything (and give
        back what admission took); the runner takes them again after ``RETRY_AFTER_S``."""
        self.runner.retry_after(RETRY_AFTER_S)
        for n in line_nos:
            self._answers[n].cancel()


class RayBatchRunner(BatchRunner):
    """The batch runner, with a remote model's lines sent through Ray Data in chunks."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._on_ray: set[tuple[str, int]] = set()
        self._chunks: set[asyncio.Task] = set()
        self._not_before = 0.0  # no new Ray chunk before this time (after a failure)

    def retry_after(self, seconds: float) -> None:
        self._not_before = max(self._not_before, time.monotonic() + seconds)

    def targets(self, model: str) -> list[dict[str, Any]]:
        """The replicas of ``model`` the Ray tasks send to: the routable ones (all if none)."""
        remote = self.core.installed[RemoteModels]
        pool = remote.pools[model]
        return [
            {"url": r.url, "key": r.spec.api_key, "model": r.spec.upstream_model}
            for r in (pool.routable() or pool.replicas)
        ]

    @property
    def local_in_flight(self) -> int:
        """Lines run here at once: the plain runner's limit, read from the engine each time
        (vLLM knows it once started)."""
        return super().max_in_flight

    @property
    def max_in_flight(self) -> int:
        return self.local_in_flight + CHUNK_LINES

    @max_in_flight.setter
    def max_in_flight(self, value: int) -> None:
        """An explicit limit for the lines run here; Ray chunks come on top of it."""
        self._max_in_flight = value

    def _remote_model(self, line: dict[str, Any]) -> str | None:
        remote = self.core.installed.get(RemoteModels)
        if remote is None or line["url"] not in ENDPOINTS:
            return None
        model = str(json.loads(line["body"]).get("model"))
        return model if model in remote.pools else None

    def _fill(self, job: dict[str, Any]) -> None:
        free = self.max_in_flight - len(self._inflight)
        if free <= 0 or job["status"] == "cancelling":
            return
        running = {n for (b, n) in self._inflight if b == job["id"]}
        lines = self.repo.pending_lines(job["id"], free, running)
        if not lines:
            return
        if job["status"] == "queued":
            self.repo.set_status(
                job["id"], "in_progress", expect=("queued",), started_at=time.time()
            )
        by_model: dict[str | None, list[dict]] = {}
        for line in lines:
            by_model.setdefault(self._remote_model(line), []).append(line)
        for model, group in by_model.items():
            if model is None:
                room = self.local_in_flight - (len(self._inflight) - len(self._on_ray))
                self._start(job, group[: max(0, room)], None)
            elif time.monotonic() >= self._not_before:
                chunk = RayChunk(self, model, [line["line_no"] for line in group])
                self._start(job, group, chunk)
                task = asyncio.create_task(chunk.run())
                self._chunks.add(task)
                task.add_done_callback(self._chunks.discard)

    def _start(self, job: dict[str, Any], lines: list[dict], chunk: RayChunk | None) -> None:
        for line in lines:
            key = (job["id"], line["line_no"])
            if chunk is None:
                task = asyncio.create_task(self._run_line(job, line))
            else:
                task = asyncio.create_task(self._run_line_via(chunk, job, line))
                self._on_ray.add(key)
            self._inflight[key] = task
            task.add_done_callback(partial(self._done, key))

    async def _run_line_via(self, chunk: RayChunk, job: dict[str, Any], line: dict) -> None:
        """The ordinary line (``_run_line``), its upstream request sent through ``chunk``."""
        transport.set(partial(chunk.send, line["line_no"]))  # in this task's context only
        try:
            await self._run_line(job, line)
        finally:
            chunk.ended(line["line_no"])

    def _done(self, key: tuple[str, int], _task: object = None) -> None:
        self._on_ray.discard(key)
        super()._done(key, _task)

    async def stop(self) -> None:
        await super().stop()
        for task in list(self._chunks):
            task.cancel()
        with contextlib.suppress(Exception):
            await asyncio.gather(*self._chunks, return_exceptions=True)
