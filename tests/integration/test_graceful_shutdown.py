"""SIGTERM to a real ``tokenfactory serve`` with requests in flight: it stops accepting, lets them
run for its drain time, then ends the stream with an error event in the API's error shape and
answers the non-streamed request 503 in that shape; it exits cleanly and says what it cut."""

from __future__ import annotations

import json
import signal
import threading
import time

import httpx
import pytest

from tests.serve_process import ServeProcess
from tokenfactory.config import DEFAULT_CHAT_MODEL

pytestmark = pytest.mark.integration

KEY = "tf-graceful-shutdown-key"
LONG = {
    "model": DEFAULT_CHAT_MODEL,
    "messages": [
        {"role": "user", "content": "List the numbers from 1 to 500 separated by commas."}
    ],
    "max_tokens": 3000,
    "temperature": 0,
}


def wait_running(server: ServeProcess, count: int) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        with server.client() as c:
            health = c.get("/health").json()
        if health["requests_running"] + health["requests_waiting"] >= count:
            return
        time.sleep(0.1)
    raise AssertionError(f"never {count} requests in the engine: {health}")


@pytest.mark.timeout(600)
def test_sigterm_drains_then_cuts_in_the_error_shape(tmp_path):
    args = ["--engine", "transformers", "--model", DEFAULT_CHAT_MODEL, "--drain-seconds", "1"]
    server = ServeProcess(args, tmp_path / "home", KEY).start()
    server.wait_ready(300)
    events: list[str] = []
    first_event = threading.Event()
    answers: dict[str, httpx.Response] = {}

    def stream() -> None:
        with (
            server.client() as c,
            c.stream("POST", "/v1/chat/completions", json={**LONG, "stream": True}) as r,
        ):
            for line in r.iter_lines():
                if line.startswith("data: "):
                    events.append(line[len("data: ") :])
                    first_event.set()

    def plain() -> None:
        with server.client() as c:
            answers["plain"] = c.post("/v1/chat/completions", json=LONG)

    threads = [threading.Thread(target=stream), threading.Thread(target=plain)]
    try:
        for t in threads:
            t.start()
        assert first_event.wait(120), "the stream never started"
        wait_running(server, 2)  # the non-streamed request is in the engine too
        assert server.proc is not None
        server.proc.send_signal(signal.SIGTERM)
        for t in threads:
            t.join(120)
        assert server.proc.wait(60) == 0
    finally:
        server.stop(signal.SIGKILL)
    assert events[-1] == "[DONE]", events[-3:]
    parsed = [json.loads(e) for e in events[:-1]]
    cuts = [e for e in parsed if "error" in e]
    assert len(cuts) == 1, events[-3:]
    assert set(cuts[0]["error"]) >= {"message", "type", "code"}
    assert cuts[0]["error"]["code"] == "shutting_down"
    assert all("choices" in e for e in parsed if "error" not in e)  # it streamed until the cut
    log = server.log.read_text(errors="replace")
    assert "plain" in answers, log[-3000:]
    plain_answer = answers["plain"]
    assert plain_answer.status_code == 503, plain_answer.text
    assert plain_answer.json()["error"]["code"] == "shutting_down"
    assert "1 stream(s) ended with an error event, 1 request(s) answered 503" in log, log[-2000:]
