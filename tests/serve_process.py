"""A real ``tokenfactory serve`` (or any HTTP server) as a child process of the tests:
started on a free port with its own data directory, restartable there, killed with its
whole process tree (engine workers, Ray's node) so nothing outlives a test."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServerProcess:
    """One server child: ``command`` may hold ``{port}``; ready when ``health_path`` is 200."""

    def __init__(
        self,
        command: list[str],
        home: Path,
        api_key: str,
        port: int | None = None,
        health_path: str = "/health",
    ) -> None:
        self.command = command
        self.home = home
        self.api_key = api_key
        self.port = port or free_port()
        self.health_path = health_path
        self.proc: subprocess.Popen | None = None
        self.log = home / f"server-{self.port}.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, env: dict[str, str] | None = None) -> ServerProcess:
        self.home.mkdir(parents=True, exist_ok=True)
        full_env = {
            **os.environ,
            "TOKENFACTORY_HOME": str(self.home),
            "JUPYTER_RUNTIME_DIR": str(self.home / "jupyter-runtime"),
            **(env or {}),
        }
        cmd = [part.replace("{port}", str(self.port)) for part in self.command]
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(cmd, env=full_env, stdout=log, stderr=subprocess.STDOUT)
        return self

    def wait_ready(self, timeout: float = 240.0) -> ServerProcess:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(f"the server exited early: {self.log.read_text()[-3000:]}")
            try:
                if httpx.get(self.url + self.health_path, timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        raise TimeoutError(f"server on {self.port} not ready: {self.log.read_text()[-3000:]}")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30.0) -> None:
        """Signal the server, wait for it, then end any of its children still running (a
        SIGKILLed server cannot stop its engine or Ray processes itself)."""
        if self.proc is None or self.proc.poll() is not None:
            return
        children = _descendants(self.proc.pid)
        self.proc.send_signal(sig)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)
        if children:
            import psutil

            _, alive = psutil.wait_procs(children, timeout=1 if sig == signal.SIGKILL else 10)
            for child in alive:
                with contextlib.suppress(psutil.Error):
                    child.kill()

    def client(self, **kw) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.api_key}"}
        return httpx.Client(base_url=self.url, headers=headers, timeout=600, **kw)


def _descendants(pid: int) -> list:
    import psutil

    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.Error:
        return []


class ServeProcess(ServerProcess):
    """``tokenfactory serve ARGS`` (``--new``: servers of one machine side by side)."""

    def __init__(self, args: list[str], home: Path, api_key: str, port: int | None = None):
        command = [sys.executable, "-m", "tokenfactory.cli", "serve", "--new", "--port", "{port}"]
        command += ["--api-key", api_key, "--log-level", "warning", *args]
        super().__init__(command, home, api_key, port)
        self.args = args

    def again(self) -> ServeProcess:
        """The same server on the same data directory (a new port), not started yet."""
        return ServeProcess(self.args, self.home, self.api_key)
