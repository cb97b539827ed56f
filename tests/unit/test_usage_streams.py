"""Against a real HTTP server: a stream the client cuts off is recorded and debited once for
the tokens it produced; the server's access log never shows a key given as ``?api_key=``."""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
import time

import httpx
import pytest

from tests.fakes import FakeEngine
from tokenfactory.usage.repository import UsageRepository


@pytest.fixture
def live(tf_home):
    import uvicorn

    from tokenfactory.core import Core
    from tokenfactory.features import install_features
    from tokenfactory.gateway.app import create_app
    from tokenfactory.store import Store

    engine = FakeEngine(replies=["x" * 400], delay=0.01)
    gateway = Core(engine, Store(tf_home / "live.sqlite3"))
    install_features(gateway)
    gateway.keys.create_workspace("streamer", tier="pro")
    gateway.keys.set_balance("streamer", 1_000_000)
    _, key = gateway.keys.create_key("streamer")
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(
        uvicorn.Config(create_app(gateway), log_level="warning", lifespan="off")
    )

    async def main() -> None:
        await gateway.start_engine()
        await server.serve(sockets=[sock])

    thread = threading.Thread(target=lambda: asyncio.run(main()), daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    yield f"http://127.0.0.1:{sock.getsockname()[1]}", key, gateway, engine
    server.should_exit = True
    thread.join(10)


def test_stream_cut_off_by_the_client_is_debited_once_for_what_it_produced(live):
    url, key, gateway, engine = live
    body = {
        "model": "test/chat",
        "messages": [{"role": "user", "content": "go"}],
        "max_tokens": 400,
        "stream": True,
    }
    received = 0
    with (
        httpx.Client(timeout=10) as client,
        client.stream(
            "POST",
            url + "/v1/chat/completions",
            json=body,
            headers={"Authorization": f"Bearer {key}"},
        ) as response,
    ):
        assert response.status_code == 200
        for line in response.iter_lines():
            if line.startswith("data: {"):
                received += 1
            if received == 5:
                break  # leave mid-stream: the connection closes here
    deadline = time.monotonic() + 15
    rows = []
    while time.monotonic() < deadline and not rows:
        rows = gateway.store.all("SELECT * FROM usage_records")
        time.sleep(0.05)
    time.sleep(0.3)  # any second record would have arrived by now
    rows = gateway.store.all("SELECT * FROM usage_records")
    assert len(rows) == 1
    row = rows[0]
    assert row["status"] == 499
    # the first chunk carries the role only; each later one a token
    assert received - 1 <= row["completion_tokens"] < 400  # stopped early, billed for what ran
    assert engine.requests[0].request_id in engine.aborted or engine.running == 0
    ws = gateway.keys.workspace("streamer")
    spent = (row["prompt_tokens"] + row["completion_tokens"]) * 100_000
    assert row["cost_pico"] == spent
    assert gateway.installed[UsageRepository].available_pico(ws.id) == 10**12 - spent


def test_the_access_log_never_shows_a_query_parameter_key(live, caplog):
    url, key, _gateway, _engine = live
    caplog.set_level(logging.INFO, logger="uvicorn.access")
    r = httpx.get(url + "/v1/models", params={"api_key": key, "x": "1"})
    assert r.status_code == 200 and r.headers["x-ratelimit-limit"] == "200"
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and not _access_lines(caplog):
        time.sleep(0.02)
    lines = _access_lines(caplog)
    # "api_key=REDACTED" by our filter; litellm, once imported, redacts the pair itself
    assert any("/v1/models?" in line and "REDACTED" in line for line in lines), lines
    assert key not in caplog.text


def _access_lines(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "uvicorn.access"]
