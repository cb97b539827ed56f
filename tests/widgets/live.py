"""A real HTTP gateway (uvicorn on a thread) over the scriptable fake engine.

``live_gateway(directory)`` is a context manager; the widget and server-extension tests use it
where the real model would only add minutes."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.fakes import FakeEngine


@dataclass
class LiveGateway:
    base_url: str
    api_key: str
    engine: FakeEngine
    core: Any


def _start(core, sock: socket.socket) -> tuple[threading.Thread, object]:
    import uvicorn

    from tokenfactory.gateway.app import create_app

    config = uvicorn.Config(create_app(core), log_level="warning", lifespan="off")
    server = uvicorn.Server(config)

    def run() -> None:
        async def main() -> None:
            await core.start_engine()
            await server.serve(sockets=[sock])

        asyncio.run(main())

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, server


@contextlib.contextmanager
def live_gateway(tf_home: Path, replies: list[str] | None = None) -> Iterator[LiveGateway]:
    from tokenfactory.core import Core
    from tokenfactory.features import install_features
    from tokenfactory.store import Store

    engine = FakeEngine(replies=replies or ["Hello from the fake engine."], delay=0.002)
    core = Core(engine, Store(tf_home / "widgets.sqlite3"))
    install_features(core)
    _, key = core.keys.create_key("default", name="widgets", is_admin=True)  # as tf.serve()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    thread, server = _start(core, sock)
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    try:
        yield LiveGateway(f"http://127.0.0.1:{port}/v1", key, engine, core)
    finally:
        server.should_exit = True
        thread.join(10)
