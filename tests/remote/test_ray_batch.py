"""A 1,000-line batch on the Ray executor against two real upstream replicas.

A Ray worker is killed mid-job (its lines are retried), then the gateway itself is killed and
restarted: every custom_id ends with exactly one result, and lines committed before the kill
are never run again.
"""

from __future__ import annotations

import json
import signal
import sqlite3
import time
from pathlib import Path

import psutil
import pytest

from .processes import CHAT_MODEL, ServeProcess, gateway

pytest.importorskip("ray")
pytestmark = [pytest.mark.integration, pytest.mark.timeout(900)]

LINES = 1000
RAY_ENV = {
    "TOKENFACTORY_BATCH_EXECUTOR": "ray",
    "TOKENFACTORY_RAY_CONCURRENCY": "2",
    "TOKENFACTORY_RAY_THREADS": "8",
    "TOKENFACTORY_UPSTREAM_HEALTH_INTERVAL": "0.5",
}


def committed(home: Path, batch_id: str) -> dict[str, str]:
    conn = sqlite3.connect(home / "tokenfactory.sqlite3")
    try:
        rows = conn.execute(
            "SELECT custom_id, result FROM batch_lines WHERE batch_id = ? AND state = 'done'",
            (batch_id,),
        ).fetchall()
    finally:
        conn.close()
    return dict(rows)


def job(gw: ServeProcess, batch_id: str) -> dict:
    with gw.client() as c:
        return c.get(f"/v1/batch/{batch_id}").json()


RAY_DID_NOT_START = "The current node timed out during startup"


def wait_job(gw: ServeProcess, batch_id: str, until, timeout: float) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        state = job(gw, batch_id)
        if until(state):
            return state
        if state["completed_requests"] == 0 and gw.log.read_text().count(RAY_DID_NOT_START) >= 2:
            # Ray's own node (raylet and agents) could not start on this machine, twice: an
            # environment limit (seen at load average > 20 on 2 cores), like a missing GPU
            pytest.skip("Ray's local node did not start on this machine (see the gateway log)")
        assert state["status"] in ("queued", "in_progress"), state
        assert time.monotonic() < deadline, f"no progress: {state}"
        time.sleep(0.3)


def ray_workers(gw: ServeProcess) -> list[psutil.Process]:
    """The gateway's Ray worker processes that are running our map_batches task."""
    root = psutil.Process(gw.proc.pid)
    found = []
    for child in root.children(recursive=True):
        try:
            if "send_lines" in " ".join(child.cmdline()):
                found.append(child)
        except psutil.Error:
            continue
    return found


def test_ray_batch_survives_a_killed_worker_and_a_killed_gateway(replicas, tmp_path):
    home = tmp_path / "gateway"
    upstreams = [f"{CHAT_MODEL}={r.url}" for r in replicas]
    lines = [
        {
            "custom_id": f"line-{i}",
            "body": {
                "model": CHAT_MODEL,
                "messages": [{"role": "user", "content": f"Number {i}?"}],
                "max_tokens": 1,
                "temperature": 0,
            },
        }
        for i in range(LINES)
    ]
    data = "".join(json.dumps(line) + "\n" for line in lines).encode()

    gw = gateway(home, upstreams).start(env=RAY_ENV).wait_ready(60)
    leftovers: list[psutil.Process] = []
    try:
        with gw.client() as c:
            r = c.post("/v1/batch", files={"file": ("b.jsonl", data)}, data={"sla": "24h"})
        assert r.status_code == 200, r.text
        batch_id = r.json()["id"]
        wait_job(gw, batch_id, lambda j: j["completed_requests"] >= 50, 300)
        workers = ray_workers(gw)
        assert workers, "no Ray worker was running the pipeline"
        workers[0].kill()
        mid = wait_job(gw, batch_id, lambda j: j["completed_requests"] >= 300, 300)
        assert mid["completed_requests"] < LINES, "kill the gateway mid-job"
        leftovers = psutil.Process(gw.proc.pid).children(recursive=True)
        gw.stop(signal.SIGKILL)
    finally:
        gw.stop()
    before = committed(home, batch_id)
    assert 300 <= len(before) < LINES
    time.sleep(2)
    for proc in leftovers:  # Ray shares the gateway's fate; end any straggler we started
        if proc.is_running():
            proc.kill()

    gw = ServeProcess(gw.args, home, gw.api_key).start(env=RAY_ENV).wait_ready(60)
    try:
        done = wait_job(gw, batch_id, lambda j: j["status"] == "completed", 600)
        with gw.client() as c:
            text = c.get(f"/v1/batch/{batch_id}/results").text
            usage = c.get("/v1/usage").json()["total"]
    finally:
        gw.stop()
    assert (done["completed_requests"], done["failed_requests"]) == (LINES, 0)
    results = [json.loads(x) for x in text.splitlines()]
    ids = [r["custom_id"] for r in results]
    assert len(ids) == len(set(ids)) == LINES
    assert set(ids) == {line["custom_id"] for line in lines}
    by_id = {r["custom_id"]: r for r in results}
    for custom_id, result in before.items():  # committed before the kill: never run again
        assert by_id[custom_id] == json.loads(result)
    assert all(r["response"]["status_code"] == 200 for r in results)
    assert all(r["response"]["body"]["model"] == CHAT_MODEL for r in results)
    # usage metered from the upstreams' usage, once per committed line (a line committed in
    # the instant before the kill may have lost its record; none is counted twice)
    assert 0.95 * LINES <= usage["completion_tokens"] <= LINES


def test_upload_still_checks_lines_before_anything_runs(replicas, tmp_path):
    gw = gateway(tmp_path / "gw", [f"{CHAT_MODEL}={replicas[0].url}"])
    gw.start(env=RAY_ENV).wait_ready(60)
    try:
        with gw.client() as c:
            bad = b'{"custom_id": "a", "body": {"model": "x", "messages": "nope"}}\n'
            r = c.post("/v1/batch", files={"file": ("b.jsonl", bad)}, data={"sla": "24h"})
    finally:
        gw.stop()
    assert r.status_code == 400 and "line 1" in r.json()["error"]["message"]
