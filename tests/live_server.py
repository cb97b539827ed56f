"""A real HTTP server (uvicorn on its own thread and loop, as ``tf.serve()`` runs it) over any
engine, for tests that need several servers in one session (``tf.serve()`` keeps one per
process). The handle is ``tf.serve()``'s own ``ServerHandle``: ``base_url``, ``api_key``,
``gateway``, ``run(coro)`` (on the server's loop, where the engine lives) and ``stop()``."""

from __future__ import annotations

import asyncio
import os
import socket
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from tokenfactory.server import ServerHandle, _run_server

WORKSPACE = "default"


def start_live_server(engine: Any, home: Path, timeout: float = 900.0) -> ServerHandle:
    """Start a gateway over ``engine`` with its store and data under ``home``; returns once
    the engine is ready (raises if it failed to start)."""
    from tokenfactory.core import Core
    from tokenfactory.features import install_features
    from tokenfactory.store import Store

    saved = {k: os.environ.get(k) for k in ("TOKENFACTORY_HOME", "JUPYTER_RUNTIME_DIR")}
    os.environ["TOKENFACTORY_HOME"] = str(home)
    os.environ["JUPYTER_RUNTIME_DIR"] = str(home / "jupyter-runtime")
    try:
        core = Core(engine, Store(home / "tokenfactory.sqlite3"))
        install_features(core)
        _, key = core.keys.create_key(WORKSPACE, name="tests", is_admin=True)  # as tf.serve()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        handle = ServerHandle("127.0.0.1", sock.getsockname()[1], key, WORKSPACE, core)
        started = threading.Event()
        handle._thread = threading.Thread(
            target=_run_server,
            args=(handle, sock, "warning", started),
            name=f"tokenfactory-test-server-{engine.name}",
            daemon=True,
        )
        handle._thread.start()
        started.wait(30)
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    try:
        handle.wait_ready(timeout)
    except BaseException:
        handle.stop()
        raise
    return handle


class EngineOnServerLoop:
    """The server's engine, callable from the test's own event loop: every call runs on the
    server's loop (vLLM's ``AsyncLLM`` serves only the loop it started its output task on)."""

    def __init__(self, handle: ServerHandle) -> None:
        self.handle = handle
        self.engine = handle.core.engine

    def __getattr__(self, name: str) -> Any:
        return getattr(self.engine, name)

    async def _on_server(self, coro: Any) -> Any:
        future = asyncio.run_coroutine_threadsafe(coro, self.handle._loop)
        return await asyncio.wrap_future(future)

    async def generate(self, request: Any) -> AsyncIterator[Any]:
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue = asyncio.Queue()
        done = object()

        async def pump() -> None:
            try:
                async for out in self.engine.generate(request):
                    loop.call_soon_threadsafe(queue.put_nowait, out)
            except BaseException as exc:
                loop.call_soon_threadsafe(queue.put_nowait, exc)
                return
            loop.call_soon_threadsafe(queue.put_nowait, done)

        asyncio.run_coroutine_threadsafe(pump(), self.handle._loop)
        while (item := await queue.get()) is not done:
            if isinstance(item, BaseException):
                raise item
            yield item

    async def embed(self, model: str, texts: list[str]) -> Any:
        return await self._on_server(self.engine.embed(model, texts))

    async def load_adapter(self, name: str, path: str, base_model: str) -> None:
        return await self._on_server(self.engine.load_adapter(name, path, base_model))

    async def unload_adapter(self, name: str) -> None:
        return await self._on_server(self.engine.unload_adapter(name))
