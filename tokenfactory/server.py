"""``tf.serve()``: the engine and the /v1 gateway on a background thread of the kernel.

The server thread owns its own asyncio loop, so nothing here blocks or touches the kernel's
event loop. A second ``serve()`` returns the running server.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import config

log = logging.getLogger("tokenfactory.server")

_current: ServerHandle | None = None
_lock = threading.Lock()


@dataclass
class ServerHandle:
    host: str
    port: int
    api_key: str = field(repr=False)
    workspace: str
    gateway: Any = field(repr=False)
    _server: Any = field(repr=False, default=None)
    _thread: threading.Thread | None = field(repr=False, default=None)
    _loop: asyncio.AbstractEventLoop | None = field(repr=False, default=None)
    _discovery: Path | None = field(repr=False, default=None)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        return f"{self.url}/v1"

    @property
    def engine(self) -> Any:
        return self.gateway.engine

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def wait_ready(self, timeout: float = 900.0) -> None:
        """Block until the served models are loaded (raises if the engine failed)."""
        deadline = time.monotonic() + timeout
        while not self.gateway.ready:
            if self.gateway.engine_error:
                raise RuntimeError(f"The engine failed to start: {self.gateway.engine_error}")
            if not self.running:
                raise RuntimeError("The server thread stopped before the engine was ready")
            if time.monotonic() > deadline:
                raise TimeoutError(f"The engine was not ready after {timeout:.0f} s")
            time.sleep(0.05)

    def run(self, coro: Any, timeout: float | None = None) -> Any:
        """Run a coroutine on the server's loop from any thread and return its result."""
        assert self._loop is not None
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    def stop(self, timeout: float = 60.0) -> None:
        global _current
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout)
        from .discovery import remove_discovery

        remove_discovery(self._discovery)
        with _lock:
            if _current is self:
                _current = None

    def _repr_markdown_(self) -> str:
        state = "ready" if self.gateway.ready else "loading"
        return (
            f"**tokenfactory** gateway at `{self.base_url}` ({state}; engine "
            f"`{self.gateway.engine.name}`)  \nUse `tf.TokenFactory()` or the `openai` client with "
            f"`base_url='{self.base_url}'` and `api_key=handle.api_key`."
        )


def current() -> ServerHandle | None:
    """The server started by ``serve()`` in this process, if it is running."""
    handle = _current
    return handle if handle is not None and handle.running else None


def serve(
    models: list[str] | str | None = None,
    *,
    embedding_models: list[str] | None = None,
    engine: str = "auto",
    host: str = "127.0.0.1",
    port: int = 0,
    api_key: str | None = None,
    workspace: str = config.DEFAULT_WORKSPACE,
    wait: bool = True,
    timeout: float = 900.0,
    log_level: str = "warning",
    upstreams: list[str] | dict[str, str | list[str]] | None = None,
    upstream_key: str | None = None,
    upstream_config: str | Path | None = None,
) -> ServerHandle:
    """Start the engine and the gateway in the background and return a handle.

    ``port=0`` picks a free port. With ``wait=True`` (the default) returns once the models are
    loaded; ``/health`` answers 503 until then.

    ``upstreams`` serve models from OpenAI-compatible servers elsewhere: ``["MODEL_ID=URL",
    ...]`` or ``{MODEL_ID: URL or [URLs]}`` (several URLs for one id make replicas), presenting
    ``upstream_key`` (or per-upstream keys from ``upstream_config``, a TOML/JSON file). With
    upstreams and no ``models``, no local model is loaded.
    """
    global _current
    with _lock:
        if _current is not None and _current.running:
            return _current
        from .runtime import build_gateway

        if isinstance(models, str):
            models = [models]
        specs = None
        if upstreams or upstream_config:
            from .remote.config import parse_upstreams

            specs = parse_upstreams(upstreams, api_key=upstream_key, config_file=upstream_config)
        gateway = build_gateway(
            engine=engine, models=models, embedding_models=embedding_models, upstreams=specs
        )
        if api_key is None:
            _, api_key = gateway.keys.create_key(workspace, name=f"kernel-{os.getpid()}")
        else:
            gateway.keys.create_key(workspace, key=api_key, name="given")
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        handle = ServerHandle(host, sock.getsockname()[1], api_key, workspace, gateway)
        started = threading.Event()
        handle._thread = threading.Thread(
            target=_run_server,
            args=(handle, sock, log_level, started),
            name="tokenfactory-server",
            daemon=True,
        )
        handle._thread.start()
        started.wait(30)
        _current = handle
    handle._discovery = _announce(handle)
    if wait:
        handle.wait_ready(timeout)
    return handle


def _run_server(
    handle: ServerHandle, sock: socket.socket, log_level: str, started: threading.Event
) -> None:
    import uvicorn

    from .gateway.app import create_app

    loop = _new_event_loop()
    asyncio.set_event_loop(loop)
    handle._loop = loop
    app = create_app(handle.gateway)
    server = uvicorn.Server(
        uvicorn.Config(app, log_level=log_level, lifespan="off", timeout_graceful_shutdown=5)
    )
    handle._server = server

    async def main() -> None:
        engine_task = asyncio.create_task(handle.gateway.start_engine())
        started.set()
        try:
            await server.serve(sockets=[sock])
        finally:
            engine_task.cancel()
            with contextlib.suppress(BaseException):
                await engine_task
            await handle.gateway.shutdown()

    try:
        loop.run_until_complete(main())
    except Exception:
        log.exception("tokenfactory server stopped with an error")
    finally:
        started.set()
        sock.close()
        loop.close()


def _new_event_loop() -> asyncio.AbstractEventLoop:
    """uvloop when installed (as uvicorn and vLLM's server use): each streamed token costs
    several loop callbacks, and uvloop's are several times cheaper than asyncio's."""
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


def _announce(handle: ServerHandle) -> Path | None:
    from ._version import __version__
    from .discovery import write_discovery

    try:
        return write_discovery(
            {
                "base_url": handle.base_url,
                "pid": os.getpid(),
                "port": handle.port,
                "api_key": handle.api_key,
                "workspace": handle.workspace,
                "engine": handle.gateway.engine.name,
                "device": handle.gateway.engine.health().device,
                "started_at": time.time(),
                "version": __version__,
            }
        )
    except Exception:  # discovery is a convenience; the server works without it
        log.warning("could not write the discovery file", exc_info=True)
        return None
