"""Real ``tokenfactory serve`` processes for the remote tests: upstream replicas and gateways."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

CHAT_MODEL = "HuggingFaceTB/SmolLM2-135M-Instruct"
UPSTREAM_KEY = "tf-upstream-test-key"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServeProcess:
    """One ``tokenfactory serve`` child, restartable on the same port."""

    def __init__(self, args: list[str], home: Path, api_key: str, port: int | None = None):
        self.args = args
        self.home = home
        self.api_key = api_key
        self.port = port or free_port()
        self.proc: subprocess.Popen | None = None
        self.log = home / f"serve-{self.port}.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, env: dict[str, str] | None = None) -> ServeProcess:
        self.home.mkdir(parents=True, exist_ok=True)
        full_env = {
            **os.environ,
            "TOKENFACTORY_HOME": str(self.home),
            "JUPYTER_RUNTIME_DIR": str(self.home / "jupyter-runtime"),
            **(env or {}),
        }
        # --new: replicas and gateways on one machine are meant to run side by side
        cmd = [sys.executable, "-m", "tokenfactory.cli", "serve", "--new", "--port", str(self.port)]
        cmd += ["--api-key", self.api_key, "--log-level", "warning", *self.args]
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(cmd, env=full_env, stdout=log, stderr=subprocess.STDOUT)
        return self

    def wait_ready(self, timeout: float = 240.0) -> ServeProcess:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(f"serve exited early: {self.log.read_text()[-3000:]}")
            try:
                if httpx.get(self.url + "/health", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        raise TimeoutError(f"serve on {self.port} not ready: {self.log.read_text()[-3000:]}")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30.0) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(sig)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)

    def client(self, **kw) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.api_key}"}
        return httpx.Client(base_url=self.url, headers=headers, timeout=600, **kw)


def replica(home: Path) -> ServeProcess:
    return ServeProcess(["--model", CHAT_MODEL, "--engine", "transformers"], home, UPSTREAM_KEY)


def gateway(
    home: Path, upstreams: list[str], *extra: str, key: str = "tf-gateway-key"
) -> ServeProcess:
    args = [a for u in upstreams for a in ("--upstream", u)]
    return ServeProcess([*args, "--upstream-key", UPSTREAM_KEY, *extra], home, key)


def warm(proc: ServeProcess) -> ServeProcess:
    """The first generation on a fresh engine is slow; take it before any test measures."""
    with proc.client() as c:
        body = {"model": CHAT_MODEL, "messages": [{"role": "user", "content": "hi"}]}
        c.post("/v1/chat/completions", json={**body, "max_tokens": 2}).raise_for_status()
    return proc
