"""tf.serve() on a fake engine: background thread, readiness, reuse, discovery file, stop."""

from __future__ import annotations

import asyncio
import json
import os
import stat

import httpx
import pytest

from tests.fakes import FakeEngine
from tokenfactory import discovery, server
from tokenfactory.core import Core
from tokenfactory.store import Store


class SlowStartEngine(FakeEngine):
    def __init__(self) -> None:
        super().__init__()
        self.release = asyncio.Event()

    async def start(self) -> None:
        await self.release.wait()
        self.started = True

    def models(self):
        models = super().models()
        if not self.started:
            for m in models:
                m.status = "loading"
        return models


@pytest.fixture
def fake_build(monkeypatch, tf_home):
    engines: list[FakeEngine] = []

    def build_core(**kwargs):
        engine = SlowStartEngine()
        engines.append(engine)
        return Core(engine, Store(tf_home / "db.sqlite3"))

    monkeypatch.setattr("tokenfactory.runtime.build_core", build_core)
    outer = server._current  # a session-wide real server, if one runs: set it aside
    server._current = None
    yield engines
    handle = server.current()
    if handle is not None:
        handle.stop()
    server._current = outer


def test_serve_reports_loading_then_ready_and_reuses(fake_build, tf_home):
    handle = server.serve(wait=False)
    try:
        health = httpx.get(handle.url + "/health")
        assert health.status_code == 503
        assert health.json()["error"]["type"] == "service_unavailable"
        r = httpx.post(
            handle.base_url + "/chat/completions",
            json={"model": "test/chat", "messages": [{"role": "user", "content": "hi"}]},
            headers={"Authorization": f"Bearer {handle.api_key}"},
        )
        assert r.status_code == 503 and r.json()["error"]["code"] == "model_loading"
        engine = fake_build[0]
        handle._loop.call_soon_threadsafe(engine.release.set)
        handle.wait_ready(10)
        assert httpx.get(handle.url + "/health").status_code == 200
        assert server.serve() is handle
        assert len(fake_build) == 1
    finally:
        handle.stop()
    assert server.current() is None
    with pytest.raises(httpx.ConnectError):
        httpx.get(handle.url + "/health")


def test_discovery_file_is_private_and_removed(fake_build, tf_home):
    handle = server.serve(wait=False)
    handle._loop.call_soon_threadsafe(fake_build[0].release.set)
    handle.wait_ready(10)
    found = discovery.list_gateways()
    assert [g["base_url"] for g in found] == [handle.base_url]
    path = found[0]["file"]
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    with open(path) as f:
        info = json.load(f)
    assert info["pid"] == os.getpid() and info["engine"] == "fake"
    handle.stop()
    assert not os.path.exists(path)
    assert discovery.list_gateways() == []


def test_serve_from_inside_a_running_event_loop(fake_build):
    """A notebook cell runs while the kernel's loop is running: serve() must not touch it."""

    async def cell() -> int:
        handle = server.serve(wait=False)
        handle._loop.call_soon_threadsafe(fake_build[0].release.set)
        handle.wait_ready(10)
        async with httpx.AsyncClient() as client:
            r = await client.get(handle.url + "/health")
        return r.status_code

    assert asyncio.run(cell()) == 200


def test_stale_discovery_files_are_ignored(tf_home):
    directory = discovery.runtime_dir()
    (directory / f"{discovery.PREFIX}999999-1.json").write_text(
        json.dumps({"pid": 999999, "port": 1, "base_url": "http://x/v1"})
    )
    (directory / f"{discovery.PREFIX}broken.json").write_text("{not json")
    assert discovery.list_gateways() == []
