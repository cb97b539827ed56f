"""A 400-line batch on the Ray executor against two real upstream replicas.

A Ray worker is killed mid-job (its lines are retried), then the gateway itself is killed and
restarted: every custom_id ends with exactly one result, and lines committed before the kill
are never run again (``tests/batch_resume.py``, shared with the local executor's test).
"""

from __future__ import annotations

import json

import psutil
import pytest

from tests.batch_resume import chat_lines, kill_mid_job_and_resume, wait_job

from .processes import CHAT_MODEL, ServeProcess, gateway

pytest.importorskip("ray")
pytestmark = [pytest.mark.integration, pytest.mark.timeout(900)]

# ~0.4 s a line on 2 cores: a 1,000-line job cost CI 405 s for the same checks; with 240 lines
# the job could end before the gateway was killed
LINES = 400
RAY_ENV = {
    "TOKENFACTORY_BATCH_EXECUTOR": "ray",
    "TOKENFACTORY_RAY_CONCURRENCY": "2",
    "TOKENFACTORY_RAY_THREADS": "8",
    "TOKENFACTORY_UPSTREAM_HEALTH_INTERVAL": "0.5",
}


def ray_workers(gw: ServeProcess) -> list[psutil.Process]:
    """The gateway's Ray worker processes that are running our map_batches task."""
    assert gw.proc is not None
    found = []
    for child in psutil.Process(gw.proc.pid).children(recursive=True):
        try:
            if "send_lines" in " ".join(child.cmdline()):
                found.append(child)
        except psutil.Error:
            continue
    return found


def kill_a_ray_worker(gw: ServeProcess, batch_id: str) -> None:
    wait_job(gw, batch_id, lambda j: j["completed_requests"] >= 50, 300)
    workers = ray_workers(gw)
    assert workers, "no Ray worker was running the pipeline"
    workers[0].kill()


def test_ray_batch_survives_a_killed_worker_and_a_killed_gateway(replicas, tmp_path):
    gw = gateway(tmp_path / "gateway", [f"{CHAT_MODEL}={r.url}" for r in replicas])
    lines = chat_lines(CHAT_MODEL, LINES, "Number {i}?", max_tokens=1)
    resumed = kill_mid_job_and_resume(
        gw, lines, kill_after=150, env=RAY_ENV, while_running=kill_a_ray_worker, ready_timeout=60
    )
    assert all(r["response"]["body"]["model"] == CHAT_MODEL for r in resumed.results)
    # usage metered from the upstreams' usage, once per committed line (a line committed in
    # the instant before the kill may have lost its record; none is counted twice)
    assert 0.95 * LINES <= resumed.usage["completion_tokens"] <= LINES


@pytest.fixture(scope="module")
def ray_gateway(replicas, tmp_path_factory: pytest.TempPathFactory):
    gw = gateway(tmp_path_factory.mktemp("ray-gw"), [f"{CHAT_MODEL}={r.url}" for r in replicas])
    gw.start(env=RAY_ENV).wait_ready(60)
    try:
        yield gw
    finally:
        gw.stop()


def upload(gw: ServeProcess, lines: list[dict]) -> str:
    data = "".join(json.dumps(line) + "\n" for line in lines).encode()
    with gw.client() as c:
        r = c.post("/v1/batch", files={"file": ("b.jsonl", data)}, data={"sla": "24h"})
    assert r.status_code == 200, r.text
    return r.json()["id"]


def results(gw: ServeProcess, batch_id: str) -> list[dict]:
    with gw.client() as c:
        return [json.loads(x) for x in c.get(f"/v1/batch/{batch_id}/results").text.splitlines()]


def test_upload_still_checks_lines_before_anything_runs(ray_gateway):
    with ray_gateway.client() as c:
        bad = b'{"custom_id": "a", "body": {"model": "x", "messages": "nope"}}\n'
        r = c.post("/v1/batch", files={"file": ("b.jsonl", bad)}, data={"sla": "24h"})
    assert r.status_code == 400 and "line 1" in r.json()["error"]["message"]


def test_ray_lines_are_admitted_like_local_ones(ray_gateway):
    """Each line on Ray passes the service's admission, as on the local executor: batch lines
    are not counted against the per-minute limits, and each holds its worst-case cost against
    the wallet while it runs. Two jobs that each fit the wallet, but not both at once: the
    lines that found the wallet held by the other job's lines end with 402 in our shape."""
    from tokenfactory.core.endpoints import CHAT, upper_bound_tokens
    from tokenfactory.store import KeyStore, Store
    from tokenfactory.usage.prices import PriceTable

    keys = KeyStore(Store(ray_gateway.home / "tokenfactory.sqlite3"))
    keys.set_tier("default", "free")  # 20 requests/min for real-time requests
    first = chat_lines(CHAT_MODEL, 40, "Number {i}?", max_tokens=8)
    second = [{**line, "custom_id": "second-" + line["custom_id"]} for line in first]
    per_line = PriceTable().estimate_pico(
        "batch_24h",
        "/v1/chat/completions",
        upper_bound_tokens(CHAT.request.model_validate(first[0]["body"])),
    )
    keys.set_balance("default", int(1.5 * len(first) * per_line) // 1_000_000)
    try:
        jobs = [upload(ray_gateway, first), upload(ray_gateway, second)]
        done = [wait_job(ray_gateway, j, lambda s: s["status"] == "completed", 300) for j in jobs]
    finally:
        keys.set_balance("default", None)
        keys.set_tier("default", "unlimited")
    outcomes = [r for j in jobs for r in results(ray_gateway, j)]
    assert len(outcomes) == 2 * len(first)  # more lines than the tier's 20 requests/min
    codes = [r["response"]["status_code"] for r in outcomes]
    refused = [
        r["response"]["body"]["error"] for r in outcomes if r["response"]["status_code"] != 200
    ]
    assert set(codes) == {200, 402}, codes
    assert {(e["type"], e["code"]) for e in refused} == {("insufficient_balance",) * 2}
    assert sum(j["failed_requests"] for j in done) == len(refused)
