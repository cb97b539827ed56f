"""POST /v1/requests/{id}/cancel stops a streaming request from another client (the page's
Stop while the kernel that reads the stream is busy), over a real HTTP gateway."""

from __future__ import annotations

import json
import threading
import time

import httpx

from tests.widgets.live import live_gateway


def start_stream(live, request_id: str) -> tuple[threading.Thread, list[dict], threading.Event]:
    events: list[dict] = []
    first = threading.Event()

    def read() -> None:
        body = {
            "model": "test/chat",
            "messages": [{"role": "user", "content": "talk"}],
            "max_tokens": 1000,
            "stream": True,
        }
        headers = {"Authorization": f"Bearer {live.api_key}", "X-Request-ID": request_id}
        url = f"{live.base_url}/chat/completions"
        with httpx.stream("POST", url, json=body, headers=headers, timeout=30) as response:
            for line in response.iter_lines():
                if line == "data: [DONE]":
                    events.append({"done": True})
                elif line.startswith("data: "):
                    events.append(json.loads(line[6:]))
                    if len(events) > 3:
                        first.set()

    thread = threading.Thread(target=read, daemon=True)
    thread.start()
    return thread, events, first


def cancel(live, request_id: str, key: str) -> httpx.Response:
    url = f"{live.base_url}/requests/{request_id}/cancel"
    return httpx.post(url, headers={"Authorization": f"Bearer {key}"}, timeout=10)


def test_a_stream_is_stopped_by_its_request_id(tf_home):
    with live_gateway(tf_home, replies=["word " * 400]) as live:
        live.engine.delay = 0.01
        thread, events, first = start_stream(live, "pg-stop-me")
        assert first.wait(10)
        _, other_key = live.core.keys.create_key(
            live.core.keys.create_workspace("other").name, name="other"
        )
        refused = cancel(live, "pg-stop-me", other_key)  # another workspace's request: unseen
        assert refused.status_code == 404
        assert refused.json()["error"]["type"] == "not_found"
        r = cancel(live, "pg-stop-me", live.api_key)
        assert r.status_code == 200, r.text
        assert r.json() == {"id": "pg-stop-me", "object": "request.cancellation", "cancelled": True}
        thread.join(10)
        assert not thread.is_alive()
        assert events[-1] == {"done": True}  # it ended as a stream ends, no error event
        chunks = [e for e in events[:-1] if "choices" in e]
        text = "".join((c["choices"][0]["delta"].get("content") or "") for c in chunks)
        assert 0 < len(text) < len("word " * 400)
        assert all(c["choices"][0].get("finish_reason") is None for c in chunks)
        # the engine request is aborted (as the closed generators are finalised), not left to run
        deadline = time.monotonic() + 10
        while not live.engine.aborted and time.monotonic() < deadline:
            time.sleep(0.02)
        assert live.engine.aborted
        assert len(live.core.in_flight) == 0
        assert cancel(live, "pg-stop-me", live.api_key).status_code == 404  # over: gone
