"""A stop with work in flight, on a real uvicorn server over the fake engine (the same drain as
``tests/integration/test_graceful_shutdown.py`` on a real ``tokenfactory serve``, in seconds): a
request that ends within the drain time is answered; then a stream still running is ended with
an error event in the API's error shape, a request not answered yet gets a 503 in that shape, a
batch line in flight commits nothing (it runs again at the next start), and the stop report says
what was cut."""

from __future__ import annotations

import json
import sqlite3
import threading
import time

import httpx

from tests.fakes import FakeEngine
from tests.live_server import start_live_server

LONG = {
    "model": "test/chat",
    "messages": [{"role": "user", "content": "hi"}],
    "max_tokens": 400,
}


def wait_until(predicate, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.02)


def test_a_stop_cuts_streams_and_requests_in_the_error_shape_and_leaves_batch_lines(tmp_path):
    engine = FakeEngine(replies=["z" * 400], delay=0.02)  # 8 s a generation
    home = tmp_path / "home"
    handle = start_live_server(engine, home)
    auth = {"Authorization": f"Bearer {handle.api_key}"}
    events: list[str] = []
    answers: dict[str, httpx.Response] = {}

    def stream() -> None:
        with (
            httpx.Client(headers=auth, timeout=60) as c,
            c.stream(
                "POST", handle.base_url + "/chat/completions", json={**LONG, "stream": True}
            ) as r,
        ):
            events.extend(line[6:] for line in r.iter_lines() if line.startswith("data: "))

    def plain() -> None:
        answers["plain"] = httpx.post(
            handle.base_url + "/chat/completions", json=LONG, headers=auth, timeout=60
        )

    line = json.dumps({"custom_id": "b", "body": LONG}) + "\n"
    batch = httpx.post(
        handle.base_url + "/batch",
        files={"file": ("b.jsonl", line.encode())},
        headers=auth,
        timeout=30,
    )
    assert batch.status_code == 200, batch.text
    wait_until(lambda: engine.running == 1)  # the batch line

    def short() -> None:  # 20 tokens: done well within the drain time
        answers["short"] = httpx.post(
            handle.base_url + "/chat/completions",
            json={**LONG, "max_tokens": 20},
            headers=auth,
            timeout=60,
        )

    clients = [threading.Thread(target=f) for f in (stream, plain, short)]
    for t in clients:
        t.start()
    try:
        wait_until(lambda: engine.running == 4)  # and the stream and the two plain requests
    finally:
        handle.stop(drain_s=1.5)
        for t in clients:
            t.join(30)

    error = json.loads(next(e for e in events if '"error"' in e))["error"]
    assert set(error) >= {"message", "type", "code"} and error["code"] == "shutting_down"
    assert events[-1] == "[DONE]"
    assert answers["plain"].status_code == 503
    assert answers["plain"].json()["error"]["code"] == "shutting_down"
    assert answers["short"].status_code == 200, answers["short"].text
    report = handle.stop_report or ""
    assert "1 request(s) finished while draining" in report, report
    assert "1 stream(s) ended with an error event" in report, report
    assert "1 request(s) answered 503" in report, report
    assert "1 batch line(s) in flight left" in report, report
    with sqlite3.connect(home / "tokenfactory.sqlite3") as db:
        (status,) = db.execute("SELECT status FROM batch_jobs").fetchone()
        results = db.execute("SELECT COUNT(*) FROM batch_lines WHERE state != 'pending'")
        assert status not in ("completed", "failed") and results.fetchone() == (0,)
