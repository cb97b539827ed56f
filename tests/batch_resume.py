"""Kill -9 a real gateway mid-batch, restart it on the same data directory, and check that
every custom_id ends with exactly one result and that lines committed before the kill kept
theirs (they did not run again). Shared by the local-engine and the Ray executor tests."""

from __future__ import annotations

import json
import signal
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.serve_process import ServeProcess


def committed(home: Path, batch_id: str) -> dict[str, dict]:
    """The results in the job store, read straight from SQLite (the server may be dead)."""
    conn = sqlite3.connect(home / "tokenfactory.sqlite3")
    try:
        rows = conn.execute(
            "SELECT custom_id, result FROM batch_lines WHERE batch_id = ? AND state = 'done'",
            (batch_id,),
        ).fetchall()
    finally:
        conn.close()
    return {custom_id: json.loads(result) for custom_id, result in rows}


def job(server: ServeProcess, batch_id: str) -> dict:
    with server.client() as c:
        return c.get(f"/v1/batch/{batch_id}").json()


def wait_job(
    server: ServeProcess, batch_id: str, until: Callable[[dict], bool], timeout: float
) -> dict:
    """Poll the job until ``until(job)``; it must stay queued or in progress meanwhile."""
    deadline = time.monotonic() + timeout
    while True:
        state = job(server, batch_id)
        if until(state):
            return state
        assert state["status"] in ("queued", "in_progress"), state
        assert time.monotonic() < deadline, (
            f"no progress in {timeout:.0f} s: {state}\nthe server's log ends with:\n"
            + server.log.read_text(errors="replace")[-3000:]
        )
        time.sleep(0.3)


def chat_lines(model: str, count: int, content: str, max_tokens: int) -> list[dict]:
    """``count`` greedy chat lines; ``content`` is formatted with the line number ``i``."""
    return [
        {
            "custom_id": f"line-{i}",
            "body": {
                "model": model,
                "messages": [{"role": "user", "content": content.format(i=i)}],
                "max_tokens": max_tokens,
                "temperature": 0,
            },
        }
        for i in range(count)
    ]


@dataclass
class Resumed:
    before: dict[str, dict]  # committed when the gateway was killed
    results: list[dict]  # the finished job's result file
    usage: dict[str, Any]  # GET /v1/usage's total after the job finished


def kill_mid_job_and_resume(
    server: ServeProcess,
    lines: list[dict],
    *,
    kill_after: int,
    env: dict[str, str] | None = None,
    while_running: Callable[[ServeProcess, str], None] | None = None,
    before_upload: Callable[[ServeProcess], None] | None = None,
    after_restart: Callable[[ServeProcess], None] | None = None,
    ready_timeout: float = 300,
    progress_timeout: float = 300,
    finish_timeout: float = 600,
) -> Resumed:
    """Upload ``lines`` to ``server`` (started here), SIGKILL it once ``kill_after`` lines are
    committed (``while_running`` runs first: a fault of its own), restart it on the same data
    directory and let the job finish; asserts the exactly-once outcome. ``before_upload`` runs
    once the first server is ready (import an adapter the lines name...), ``after_restart`` as
    soon as the restarted one says ready."""
    data = "".join(json.dumps(line) + "\n" for line in lines).encode()
    server.start(env).wait_ready(ready_timeout)
    try:
        if before_upload is not None:
            before_upload(server)
        with server.client() as c:
            r = c.post("/v1/batch", files={"file": ("b.jsonl", data)}, data={"sla": "24h"})
        assert r.status_code == 200, r.text
        batch_id = r.json()["id"]
        if while_running is not None:
            while_running(server, batch_id)
        killed_at = wait_job(
            server, batch_id, lambda j: j["completed_requests"] >= kill_after, progress_timeout
        )
        assert killed_at["completed_requests"] < len(lines), "kill the gateway mid-job"
    finally:
        server.stop(signal.SIGKILL)
    before = committed(server.home, batch_id)
    assert kill_after <= len(before) < len(lines), "kill the gateway mid-job"

    again = server.again().start(env).wait_ready(ready_timeout)
    try:
        if after_restart is not None:
            after_restart(again)
        done = wait_job(again, batch_id, lambda j: j["status"] == "completed", finish_timeout)
        with again.client() as c:
            text = c.get(f"/v1/batch/{batch_id}/results").text
            usage = c.get("/v1/usage").json()["total"]
    finally:
        again.stop()
    assert (done["completed_requests"], done["failed_requests"]) == (len(lines), 0)
    results = [json.loads(x) for x in text.splitlines()]
    ids = [r["custom_id"] for r in results]
    assert len(ids) == len(set(ids)) == len(lines)
    assert set(ids) == {line["custom_id"] for line in lines}
    by_id = {r["custom_id"]: r for r in results}
    for custom_id, result in before.items():  # committed before the kill: never run again
        assert by_id[custom_id] == result
    assert all(r["response"]["status_code"] == 200 for r in results)
    return Resumed(before, results, usage)
