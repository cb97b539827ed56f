"""The gateway over the real engine: client disconnects abort generation; health details."""

from __future__ import annotations

import time

import httpx
import pytest

pytestmark = pytest.mark.integration

CHAT = "HuggingFaceTB/SmolLM2-135M-Instruct"


def auth(server) -> dict[str, str]:
    return {"Authorization": f"Bearer {server.api_key}"}


def running(server) -> int:
    return httpx.get(server.url + "/health", headers=auth(server)).json()["requests_running"]


def test_client_going_away_aborts_the_generation(server):
    body = {
        "model": CHAT,
        "messages": [{"role": "user", "content": "Write a very long story about the sea."}],
        "max_tokens": 2000,
        "temperature": 0.8,
        "stream": True,
    }
    headers = {"Authorization": f"Bearer {server.api_key}"}
    with httpx.stream(
        "POST", server.base_url + "/chat/completions", json=body, headers=headers, timeout=60
    ) as r:
        assert r.status_code == 200
        lines = r.iter_lines()
        for _ in range(5):
            next(lines)
        assert running(server) >= 1
    deadline = time.time() + 30
    while running(server) and time.time() < deadline:
        time.sleep(0.1)
    assert running(server) == 0


def test_health_describes_engine_and_models(server):
    body = httpx.get(server.url + "/health", headers=auth(server)).json()
    assert body["ready"] is True and body["engine"] == "transformers" and body["device"] == "cpu"
    statuses = {m["id"]: m["status"] for m in body["models"]}
    assert statuses[CHAT] == "loaded"
