"""Kill -9 a real ``tokenfactory serve`` mid-batch, restart it on the same data directory:
every custom_id ends with exactly one result, and lines committed before the kill keep their
result (they did not run again)."""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tokenfactory.config import DEFAULT_CHAT_MODEL

KEY = "tf-batch-resume-key"
LINES = 64


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(home: Path, port: int, engine: str) -> subprocess.Popen:
    env = {**os.environ, "TOKENFACTORY_HOME": str(home)}
    cmd = [
        sys.executable, "-m", "tokenfactory.cli", "serve", "--port", str(port),
        "--api-key", KEY, "--engine", engine, "--model", DEFAULT_CHAT_MODEL,
        "--log-level", "warning",
    ]  # fmt: skip
    log = open(home / f"server-{port}.log", "ab")  # noqa: SIM115 - closed with the process
    return subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)


def skip_unless_vllm_runs_here() -> None:
    """This test's vLLM servers are their own processes (killed mid-job), not the session's."""
    from tokenfactory.engine.select import create_engine
    from tokenfactory.errors import ServiceUnavailableError

    try:
        create_engine("vllm")
    except ServiceUnavailableError as exc:
        pytest.skip(f"VLLMEngine cannot run here: {exc}")


def wait_ready(port: int, proc: subprocess.Popen, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the server exited"
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise AssertionError("the server did not become ready")


def committed(home: Path, batch_id: str) -> dict[str, dict]:
    conn = sqlite3.connect(home / "tokenfactory.sqlite3")
    try:
        rows = conn.execute(
            "SELECT custom_id, result FROM batch_lines WHERE batch_id = ? AND state = 'done'",
            (batch_id,),
        ).fetchall()
    finally:
        conn.close()
    return {cid: json.loads(result) for cid, result in rows}


@pytest.mark.integration
@pytest.mark.timeout(900)
@pytest.mark.parametrize("engine", ["transformers", "vllm"])
def test_kill_9_mid_batch_then_restart_loses_nothing_and_reruns_nothing(tmp_path, engine):
    if engine == "vllm":
        skip_unless_vllm_runs_here()
    home = tmp_path / "home"
    home.mkdir()
    headers = {"Authorization": f"Bearer {KEY}"}
    lines = [
        {
            "custom_id": f"q-{i}",
            "body": {
                "model": DEFAULT_CHAT_MODEL,
                "messages": [{"role": "user", "content": f"Count from {i} to {i + 30}."}],
                "max_tokens": 24,
                "temperature": 0,
            },
        }
        for i in range(LINES)
    ]
    data = "".join(json.dumps(line) + "\n" for line in lines).encode()

    port = free_port()
    proc = start_server(home, port, engine)
    try:
        wait_ready(port, proc)
        base = f"http://127.0.0.1:{port}/v1"
        r = httpx.post(
            f"{base}/batch", headers=headers, files={"file": ("b.jsonl", data)},
            data={"sla": "24h"},
        )  # fmt: skip
        assert r.status_code == 200, r.text
        batch_id = r.json()["id"]
        deadline = time.monotonic() + 300
        while True:
            job = httpx.get(f"{base}/batch/{batch_id}", headers=headers).json()
            if job["completed_requests"] >= 3:
                break
            assert job["status"] in ("queued", "in_progress"), job
            assert time.monotonic() < deadline, "no progress"
            time.sleep(0.2)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
    before = committed(home, batch_id)
    assert 3 <= len(before) < LINES, "kill the server mid-job"

    port = free_port()
    proc = start_server(home, port, engine)
    try:
        wait_ready(port, proc)
        base = f"http://127.0.0.1:{port}/v1"
        deadline = time.monotonic() + 600
        while True:
            job = httpx.get(f"{base}/batch/{batch_id}", headers=headers).json()
            if job["status"] == "completed":
                break
            assert job["status"] in ("queued", "in_progress"), job
            assert time.monotonic() < deadline, "the job did not resume"
            time.sleep(0.5)
        assert (job["completed_requests"], job["failed_requests"]) == (LINES, 0)
        text = httpx.get(f"{base}/batch/{batch_id}/results", headers=headers).text
    finally:
        proc.terminate()
        proc.wait(60)
    results = [json.loads(x) for x in text.splitlines()]
    ids = [r["custom_id"] for r in results]
    assert sorted(ids) == sorted(line["custom_id"] for line in lines)
    assert len(ids) == len(set(ids)) == LINES
    by_id = {r["custom_id"]: r for r in results}
    for custom_id, result in before.items():  # committed before the kill: never run again
        assert by_id[custom_id] == result
    assert all(r["response"]["status_code"] == 200 for r in results)
    assert all(r["response"]["body"]["choices"][0]["message"]["content"] for r in results)
