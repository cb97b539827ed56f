"""``tf.serve()``: one gateway per machine, started in this kernel only when none runs yet.

``serve()`` first looks for a tokenfactory gateway already running for this user on this machine
(``$TOKENFACTORY_BASE_URL`` or a discovery file, see :mod:`tokenfactory.running`) and attaches to
it; otherwise (or with ``new=True``) it starts the engine and the /v1 gateway on a background
thread of this process. The handle's ``mode`` says which: ``"started"`` or ``"attached"``.

The server thread owns its own asyncio loop, so nothing here blocks or touches the kernel's
event loop. A second ``serve()`` returns the same handle.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import os
import socket
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from . import config
from .core.aliases import parse_aliases
from .engine.select import Workload
from .errors import ServiceError
from .gateway.cors import check_origins

log = logging.getLogger("tokenfactory.server")

_current: ServerHandle | None = None


class PortInUseError(ServiceError):
    status_code = 409
    type = "port_in_use"
    code = "port_in_use"


_lock = threading.Lock()
DRAIN_S = 10.0  # how long requests in flight may finish when the gateway stops


def drain_seconds() -> float:
    """``$TOKENFACTORY_DRAIN_S``, else :data:`DRAIN_S`."""
    value = os.environ.get("TOKENFACTORY_DRAIN_S")
    return float(value) if value else DRAIN_S


@dataclass
class ServerHandle:
    """A gateway this process started (``mode="started"``) or attached to (``"attached"``).

    An attached handle has no in-process ``core``/``engine``; ``stop()`` only detaches.
    """

    host: str
    port: int
    api_key: str | None = field(repr=False)
    workspace: str
    core: Any = field(repr=False)  # the Core serving this gateway (None when attached)
    mode: Literal["started", "attached"] = "started"
    pid: int | None = field(default_factory=os.getpid)
    _base_url: str | None = field(repr=False, default=None)
    _server: Any = field(repr=False, default=None)
    _thread: threading.Thread | None = field(repr=False, default=None)
    _loop: asyncio.AbstractEventLoop | None = field(repr=False, default=None)
    _discovery: Path | None = field(repr=False, default=None)
    _previous: ServerHandle | None = field(repr=False, default=None)  # current() before this
    _drain: Any = field(repr=False, default=None)  # the app's gateway.inflight.Drain
    drain_s: float = field(repr=False, default_factory=drain_seconds)
    stop_report: str | None = field(repr=False, default=None)  # what stopping cut, once stopped
    #: the web origins whose pages may call this gateway (CORS); none by default
    cors_origins: list[str] = field(repr=False, default_factory=list)

    @property
    def attached(self) -> bool:
        return self.mode == "attached"

    @property
    def url(self) -> str:
        if self._base_url:
            from .running import root_of

            return root_of(self._base_url)
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        return f"{self.url}/v1"

    @property
    def engine(self) -> Any:
        if self.attached:
            raise RuntimeError(
                f"This kernel is attached to the gateway at {self.base_url}; its engine runs in"
                " that gateway's process. tf.serve(new=True) starts an engine in this kernel."
            )
        return self.core.engine

    @property
    def running(self) -> bool:
        if self.attached:
            from .running import probe

            return probe(self.base_url, timeout=1.0) is not None
        return self._thread is not None and self._thread.is_alive()

    def health(self) -> dict[str, Any] | None:
        from .running import probe

        return probe(self.base_url, self.api_key)

    def wait_ready(self, timeout: float = 900.0) -> None:
        """Block until the served models are loaded (raises if the engine failed)."""
        if self.attached:
            self._wait_attached_ready(timeout)
            return
        deadline = time.monotonic() + timeout
        while not self.core.ready:
            if self.core.engine_error:
                raise RuntimeError(f"The engine failed to start: {self.core.engine_error}")
            if not self.running:
                raise RuntimeError("The server thread stopped before the engine was ready")
            if time.monotonic() > deadline:
                raise TimeoutError(f"The engine was not ready after {timeout:.0f} s")
            time.sleep(0.05)

    def _wait_attached_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            health = self.health()
            if health is None:
                raise RuntimeError(f"The gateway at {self.base_url} stopped answering")
            if health.get("status") == "failed":
                message = (health.get("error") or {}).get("message", "the engine failed")
                raise RuntimeError(f"The gateway at {self.base_url}: {message}")
            if health.get("ready"):
                return
            if time.monotonic() > deadline:
                raise TimeoutError(f"The engine was not ready after {timeout:.0f} s")
            time.sleep(0.2)

    def run(self, coro: Any, timeout: float | None = None) -> Any:
        """Run a coroutine on the server's loop from any thread and return its result."""
        if self._loop is None:
            raise RuntimeError("An attached gateway runs in another process; it has no loop here")
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    def stop(self, timeout: float = 60.0, drain_s: float | None = None) -> None:
        """Stop the gateway this process started; for an attached one, only detach from it.

        It stops accepting at once; requests in flight get ``drain_s`` seconds (default
        ``handle.drain_s``: ``$TOKENFACTORY_DRAIN_S`` or 10) to finish, then streams end with an
        error event and the rest are answered 503. Batch lines in flight stay pending and run
        at the next start. ``handle.stop_report`` says what was cut.
        """
        if self.attached:
            self._forget()
            return
        drain_s = self.drain_s if drain_s is None else drain_s
        loop = self._loop
        if self._drain is not None and loop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                loop.call_soon_threadsafe(self._drain.begin, drain_s)
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout + drain_s)
        from .discovery import remove_discovery

        remove_discovery(self._discovery)
        self._forget()

    def _forget(self) -> None:
        """No longer this process's gateway: the one current before it (if it runs) is again."""
        global _current
        with _lock:
            if _current is self:
                previous = self._previous
                _current = previous if previous is not None and previous.running else None

    def _owner(self) -> str:
        return f"pid {self.pid}, " if self.pid else ""

    def summary(self) -> str:
        """One line: started or attached, where, and which engine."""
        if self.attached:
            engine = (self.health() or {}).get("engine", "?")
            return (
                f"tokenfactory: attached to the gateway already running at {self.base_url}"
                f" ({self._owner()}engine {engine}); tf.serve(new=True) starts another"
            )
        return (
            f"tokenfactory: started a gateway at {self.base_url} in this process"
            f" (engine {self.core.engine.name})"
        )

    def _repr_markdown_(self) -> str:
        if self.attached:
            health = self.health() or {}
            state = "ready" if health.get("ready") else "not ready"
            where = f"attached: {self._owner()}not started by this kernel"
            engine = health.get("engine", "?")
        else:
            state = "ready" if self.core.ready else "loading"
            where = "started in this kernel"
            engine = self.core.engine.name
        name = _variable_name(self)
        return (
            f"**tokenfactory** gateway at `{self.base_url}` ({where}; {state}; engine "
            f"`{engine}`)  \nUse `tf.TokenFactory()` or the `openai` client with "
            f"`base_url={name}.base_url` and `api_key={name}.api_key`."
        )


def _variable_name(handle: ServerHandle) -> str:
    """The name the notebook bound this handle to (``server = tf.serve()``), else ``server``."""
    try:
        from IPython import get_ipython
    except ImportError:
        return "server"
    shell = get_ipython()
    namespace = getattr(shell, "user_ns", None) or {}
    for name, value in namespace.items():
        if value is handle and not name.startswith("_"):
            return name
    return "server"


def current() -> ServerHandle | None:
    """The gateway this process started or attached to with ``serve()``, if it still runs."""
    handle = _current
    return handle if handle is not None and handle.running else None


def serve(
    models: list[str] | str | None = None,
    *,
    new: bool = False,
    embedding_models: list[str] | None = None,
    engine: str = "auto",
    host: str = "127.0.0.1",
    port: int = 0,
    api_key: str | None = None,
    workspace: str = config.DEFAULT_WORKSPACE,
    wait: bool = True,
    timeout: float = 900.0,
    log_level: str = "warning",
    quiet: bool = False,
    upstreams: list[str] | dict[str, str | list[str]] | None = None,
    upstream_key: str | None = None,
    upstream_config: str | Path | None = None,
    enable_lora: bool | None = None,
    workload: Workload = "notebook",
    aliases: dict[str, str] | list[str] | None = None,
    cors_origins: list[str] | None = None,
) -> ServerHandle:
    """Attach to the gateway already running on this machine, or start one; return a handle.

    A second call returns the same handle. Otherwise attaches (``handle.mode == "attached"``) to
    the gateway named by ``$TOKENFACTORY_BASE_URL`` or by this user's discovery files when one
    answers. ``new=True`` always starts another gateway in this process (``"started"``); it is
    the current one until stopped, then the one before it is again. ``port=0`` picks a free
    port. With ``wait=True`` (the default) returns once the models are loaded; ``/health``
    answers 503 until then. Prints one line saying which happened unless ``quiet``.

    ``upstreams`` serve models from OpenAI-compatible servers elsewhere: ``["MODEL_ID=URL",
    ...]`` or ``{MODEL_ID: URL or [URLs]}`` (several URLs for one id make replicas), presenting
    ``upstream_key`` (or per-upstream keys from ``upstream_config``, a TOML/JSON file). With
    upstreams and no ``models``, no local model is loaded.

    ``engine="auto"`` picks for ``workload``: ``"notebook"`` (the default) starts fast,
    ``"server"`` (``tokenfactory serve``) picks what serves many streams best on this machine
    (``tokenfactory/engine/select.py``). ``enable_lora=True`` gives a vLLM engine its LoRA slots
    at start, for a server that will serve adapters; by default it adds them with the first
    adapter (a one-time switch, see docs/cpu-engine.md), and False serves no adapters.

    ``aliases`` (``{"gpt-4o-mini": MODEL}`` or ``["NAME=MODEL", ...]``) answer requests for each
    name with the model it names, on every endpoint (docs/aliases-and-cors.md); an alias of a
    model not served is refused before anything starts. ``cors_origins`` (e.g.
    ``["http://localhost:3000"]``, or ``["*"]``) are the web origins whose pages may call the
    gateway from a browser; by default none may.
    """
    global _current
    existing = current()
    if existing is not None and not new:
        return existing
    handle = None if new else _attach(workspace)
    if handle is not None:
        with _lock:
            _current = handle
        if not quiet:
            print(handle.summary(), flush=True)
            _warn_unserved(handle, models, embedding_models)
    else:
        upstream = (upstreams, upstream_key, upstream_config)
        choice = _EngineChoice(engine, workload, enable_lora)
        options = _Options(parse_aliases(aliases), check_origins(cors_origins))
        handle = _start(
            models,
            embedding_models,
            choice,
            host,
            port,
            api_key,
            workspace,
            log_level,
            upstream,
            options,
        )
        if not quiet:
            print(handle.summary(), flush=True)
    if wait:
        handle.wait_ready(timeout)
    return handle


def _attach(workspace: str) -> ServerHandle | None:
    from .running import find_running

    found = find_running()
    if found is None:
        return None
    from urllib.parse import urlsplit

    parts = urlsplit(found.base_url)
    return ServerHandle(
        parts.hostname or "127.0.0.1",
        parts.port or 80,
        found.api_key,
        workspace,
        None,
        mode="attached",
        pid=found.pid,
        _base_url=found.base_url,
    )


def _warn_unserved(
    handle: ServerHandle, models: list[str] | str | None, embedding: list[str] | None
) -> None:
    wanted = ([models] if isinstance(models, str) else list(models or [])) + list(embedding or [])
    served = {m.get("id") for m in (handle.health() or {}).get("models", [])}
    missing = [m for m in wanted if m not in served]
    if missing:
        print(
            f"tokenfactory: that gateway does not serve {', '.join(missing)}; load it there"
            " (POST /v1/models/load) or start a separate gateway with tf.serve(..., new=True)",
            flush=True,
        )


@dataclass(frozen=True)
class _EngineChoice:
    engine: str
    workload: Workload
    enable_lora: bool | None


@dataclass(frozen=True)
class _Options:
    aliases: dict[str, str]
    cors_origins: list[str]


def _start(
    models: list[str] | str | None,
    embedding_models: list[str] | None,
    choice: _EngineChoice,
    host: str,
    port: int,
    api_key: str | None,
    workspace: str,
    log_level: str,
    upstream: tuple[Any, str | None, str | Path | None],
    options: _Options,
) -> ServerHandle:
    global _current
    upstreams, upstream_key, upstream_config = upstream
    with _lock:
        from .runtime import build_core

        if isinstance(models, str):
            models = [models]
        sock = _bind(host, port)  # before anything is created: a busy port leaves no trace
        try:
            specs = None
            if upstreams or upstream_config:
                from .remote.config import parse_upstreams

                specs = parse_upstreams(
                    upstreams, api_key=upstream_key, config_file=upstream_config
                )
            core = build_core(
                engine=choice.engine,
                models=models,
                embedding_models=embedding_models,
                upstreams=specs,
                workload=choice.workload,
                enable_lora=choice.enable_lora,
                aliases=options.aliases,
            )
            # The key of whoever starts the gateway is its owner's: an admin key.
            name = "given" if api_key else f"kernel-{os.getpid()}"
            _, api_key = core.keys.create_key(workspace, key=api_key, name=name, is_admin=True)
        except BaseException:
            sock.close()
            raise
        handle = ServerHandle(host, sock.getsockname()[1], api_key, workspace, core)
        handle.cors_origins = options.cors_origins
        started = threading.Event()
        handle._thread = threading.Thread(
            target=_run_server,
            args=(handle, sock, log_level, started),
            name="tokenfactory-server",
            daemon=True,
        )
        handle._thread.start()
        started.wait(30)
        handle._previous, _current = _current, handle
    handle._discovery = _announce(handle)
    return handle


def _bind(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise PortInUseError(
                f"Port {port} on {host} is already in use; stop what listens there or choose"
                " another port"
            ) from None
        raise PortInUseError(f"Cannot listen on {host}:{port}: {exc.strerror}") from None
    return sock


def _run_server(
    handle: ServerHandle, sock: socket.socket, log_level: str, started: threading.Event
) -> None:
    import uvicorn

    from .gateway.app import create_app
    from .gateway.protocol import protocol_with_header_timeout

    loop = _new_event_loop()
    asyncio.set_event_loop(loop)
    handle._loop = loop
    app = create_app(handle.core, cors_origins=handle.cors_origins)
    handle._drain = app.state.drain
    config = uvicorn.Config(
        app,
        log_level=log_level,
        lifespan="off",
        # the drain (gateway/inflight.py) ends every request by then; this is a backstop
        timeout_graceful_shutdown=int(handle.drain_s) + 5,
        http=protocol_with_header_timeout(app.state.limits.header_timeout_s),
    )
    server = uvicorn.Server(config)
    handle._server = server

    async def main() -> None:
        engine_task = asyncio.create_task(handle.core.start_engine())
        started.set()
        try:
            await server.serve(sockets=[sock])
        finally:
            engine_task.cancel()
            with contextlib.suppress(BaseException):
                await engine_task
            await handle.core.shutdown()
            handle.stop_report, cut = _stop_report(handle)
            log.log(logging.WARNING if cut else logging.INFO, "stopped: %s", handle.stop_report)

    try:
        loop.run_until_complete(main())
    except Exception:
        log.exception("tokenfactory server stopped with an error")
    finally:
        started.set()
        sock.close()
        loop.close()


def _stop_report(handle: ServerHandle) -> tuple[str, int]:
    """What stopping cut (the log line), and how many things that is."""
    drain = handle._drain
    from .batch.service import BatchService

    batch = handle.core.installed.get(BatchService)
    left = batch.runner.left_at_stop if batch is not None else 0
    said = drain.report() if drain is not None else "no request was served"
    report = f"{said}; {left} batch line(s) in flight left to run at the next start"
    return report, (drain.cut if drain is not None else 0) + left


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
                "engine": handle.core.engine.name,
                "device": handle.core.engine.health().device,
                "started_at": time.time(),
                "version": __version__,
            }
        )
    except Exception:  # discovery is a convenience; the server works without it
        log.warning("could not write the discovery file", exc_info=True)
        return None
