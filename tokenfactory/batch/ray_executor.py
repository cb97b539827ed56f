"""Batch lines for remote models as a Ray Data pipeline (``TOKENFACTORY_BATCH_EXECUTOR=ray``).

The job store, its line states and the exactly-once commit are the ordinary runner's
(:class:`~tokenfactory.batch.runner.BatchRunner`); only how a remote model's lines run
changes. Pending lines are taken in chunks; each chunk becomes a Ray dataset whose
``map_batches`` tasks POST the lines to the model's upstream replicas (bounded: ``concurrency``
tasks x ``threads`` requests each). Results stream back to the gateway, which commits each
line once (``finish_line`` commits only a pending line) and meters its usage.

Faults: a killed Ray worker's task is retried by Ray, and only a finished task's results come
back, so a line is committed once; a line no replica answered is not committed and runs again
on a later pass (until its SLA expires); a gateway killed mid-chunk leaves the uncommitted
lines pending, and the restarted gateway runs them (the committed ones never again).

Ray: ``ray.init()`` starts a local instance by default; ``TOKENFACTORY_RAY_ADDRESS`` (or
``RAY_ADDRESS``) joins an existing cluster, whose workers need ``tokenfactory`` installed.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from ..core.records import UsageRecord
from .executor import result_line
from .runner import TIER, BatchRunner

log = logging.getLogger("tokenfactory.batch")

ENV_EXECUTOR = "TOKENFACTORY_BATCH_EXECUTOR"
CHUNK_LINES = int(os.environ.get("TOKENFACTORY_RAY_CHUNK", "1024"))
TASKS = int(os.environ.get("TOKENFACTORY_RAY_CONCURRENCY", "4"))
THREADS = int(os.environ.get("TOKENFACTORY_RAY_THREADS", "8"))
LINES_PER_TASK = 32
RETRY_AFTER_S = 10.0  # after Ray itself failed (not a line: those are retried by Ray)
UPSTREAM_PATHS = {"/v1/chat/completions", "/v1/completions", "/v1/embeddings"}
_ray_lock = threading.Lock()


def ray_selected() -> bool:
    return os.environ.get(ENV_EXECUTOR, "").lower() == "ray"


def ensure_ray() -> Any:
    """``ray``, initialised once per process (local by default, a cluster by address)."""
    import ray

    with _ray_lock:
        if not ray.is_initialized():
            address = os.environ.get("TOKENFACTORY_RAY_ADDRESS") or os.environ.get("RAY_ADDRESS")
            options: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False}
            if not address:
                mb = int(os.environ.get("TOKENFACTORY_RAY_OBJECT_STORE_MB", "256"))
                options["object_store_memory"] = mb * 1024 * 1024
                # on a busy machine the node's agents start slowly; the raylet waits for them
                os.environ.setdefault("RAY_agent_register_timeout_ms", "120000")
            try:
                ray.init(address=address, ignore_reinit_error=True, **options)
            except Exception:
                _end_ray_children()
                raise
            ray.data.DataContext.get_current().enable_progress_bars = False
    return ray


def _end_ray_children() -> None:
    """A local Ray that failed to start leaves some of its processes behind: end those this
    process started (and only those)."""
    import contextlib

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
def _send(client: Any, targets: list[dict], start: int, url: str, body: dict) -> tuple[int, str]:
    """POST one line to a replica; on a connection error or 503, once more to the next one.
    ``(0, message)`` when no replica answered (the line stays pending)."""
    import httpx

    last = "no upstream"
    for attempt in range(min(2, len(targets))):
        target = targets[(start + attempt) % len(targets)]
        payload = {**body, "model": target["model"]}
        headers = {"Authorization": f"Bearer {target['key']}"} if target["key"] else {}
        try:
            resp = client.post(target["url"] + url[3:], json=payload, headers=headers)
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
            pool.submit(_send, client, targets, n, str(u), json.loads(str(b)))
            for n, u, b in zip(line_nos, batch["url"], batch["body"], strict=True)
        ]
        answers = [f.result() for f in futures]
    return {
        "line_no": line_nos,
        "status": [status for status, _ in answers],
        "response": [text for _, text in answers],
    }


# -- the gateway side -----------------------------------------------------------------------
class RayBatchRunner(BatchRunner):
    """The batch runner, with a remote model's lines sent through Ray Data in chunks."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.local_in_flight = self.max_in_flight
        self.max_in_flight = self.local_in_flight + CHUNK_LINES

    def _remote_model(self, line: dict[str, Any]) -> str | None:
        remote = self.core.remote
        if remote is None or line["url"] not in UPSTREAM_PATHS:
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
                room = self.local_in_flight - sum(
                    1 for t in self._inflight.values() if not getattr(t, "ray_chunk", False)
                )
                group = group[: max(0, room)]
                tasks = [asyncio.create_task(self._run_line(job, line)) for line in group]
            else:
                task = asyncio.create_task(self._run_chunk(job, model, group))
                task.ray_chunk = True  # type: ignore[attr-defined]
                tasks = [task] * len(group)
            for line, task in zip(group, tasks, strict=True):
                key = (job["id"], line["line_no"])
                self._inflight[key] = task
                task.add_done_callback(lambda _t, key=key: self._done(key))

    async def _run_chunk(self, job: dict[str, Any], model: str, lines: list[dict]) -> None:
        remote = self.core.remote
        assert remote is not None
        pool = remote.pools[model]
        replicas = pool.routable() or pool.replicas
        targets = [
            {"url": r.url, "key": r.spec.api_key, "model": r.spec.upstream_model} for r in replicas
        ]
        stop = threading.Event()
        try:
            await asyncio.to_thread(self._pipeline, job, model, lines, targets, stop)
        except asyncio.CancelledError:
            stop.set()
            raise
        except Exception:  # Ray itself failed: the lines stay pending and run again
            log.exception("Ray pipeline for batch %s failed; retrying", job["id"])
            await asyncio.sleep(RETRY_AFTER_S)

    def _pipeline(self, job, model, lines, targets, stop) -> None:
        ray = ensure_ray()
        rows = [{"line_no": r["line_no"], "url": r["url"], "body": r["body"]} for r in lines]
        by_no = {r["line_no"]: r for r in lines}
        dataset = ray.data.from_items(
            rows, override_num_blocks=max(1, len(rows) // 64)
        ).map_batches(
            send_lines,
            batch_size=LINES_PER_TASK,
            fn_kwargs={"targets": targets, "threads": THREADS},
            concurrency=TASKS,
            max_retries=5,
        )
        principal = self._principal(job)
        for out in dataset.iter_rows():
            if stop.is_set():
                return
            line = by_no[int(out["line_no"])]
            status, text = int(out["status"]), str(out["response"])
            if status == 0:
                log.warning("batch %s line %s: no upstream answered", job["id"], line["line_no"])
                continue  # stays pending; a later pass runs it again
            self._commit(job, model, principal, line, status, text)

    def _commit(self, job, model, principal, line, status, text) -> None:
        try:
            body = json.loads(text)
        except ValueError:
            body = {"error": {"message": text[:500], "type": "server_error", "code": "upstream"}}
        if status == 200 and isinstance(body, dict) and "model" in body:
            body["model"] = model
        request_id = f"req-{uuid.uuid4().hex[:24]}"
        result = result_line(line["custom_id"], status, request_id, body)
        usage = body.get("usage") if status == 200 and isinstance(body, dict) else None
        records = []
        if usage:
            records.append(
                UsageRecord(
                    principal=principal,
                    endpoint=line["url"],
                    model=model,
                    tier=TIER[job["sla"]],
                    prompt_tokens=int(usage.get("prompt_tokens") or 0),
                    completion_tokens=int(usage.get("completion_tokens") or 0),
                    latency_s=None,
                    ttft_s=None,
                    status=status,
                    request_id=request_id,
                )
            )

        def write_result(conn) -> bool:
            return self.repo.finish_line(conn, job["id"], line["line_no"], status == 200, result)

        # result and usage in one transaction: a line already committed is not billed again
        self.core.commit_usage(records, together_with=write_result)
