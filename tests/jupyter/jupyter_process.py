"""Start a real Jupyter server (or JupyterLab) in a subprocess with isolated Jupyter dirs."""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx


@dataclass
class JupyterProcess:
    url: str
    token: str
    root_dir: Path
    runtime_dir: Path
    process: subprocess.Popen

    def api(self, path: str) -> str:
        return f"{self.url}{path}"

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"token {self.token}"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def running_jupyter(
    base: Path,
    *,
    app: str = "server",
    runtime_dir: Path | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 90,
) -> Iterator[JupyterProcess]:
    """``app`` is ``server`` or ``lab``; ``runtime_dir`` is where gateways announce themselves."""
    root = base / "root"
    root.mkdir(parents=True, exist_ok=True)
    runtime = runtime_dir or base / "runtime"
    env = {
        **os.environ,
        **(env or {}),
        "JUPYTER_CONFIG_DIR": str(base / "config"),
        "JUPYTER_DATA_DIR": str(base / "data"),
        "JUPYTER_RUNTIME_DIR": str(runtime),
        "IPYTHONDIR": str(base / "ipython"),
        "JUPYTER_PLATFORM_DIRS": "1",
        "PYTHONPATH": os.pathsep.join(
            [str(Path(__file__).resolve().parents[2]), os.environ.get("PYTHONPATH", "")]
        ),
    }
    # no "get notified about Jupyter news?" pop-up over the screenshots
    labconfig = base / "config" / "labconfig"
    labconfig.mkdir(parents=True, exist_ok=True)
    (labconfig / "page_config.json").write_text(
        '{"disabledExtensions": {"@jupyterlab/apputils-extension:announcements": true}}'
    )
    token = secrets.token_hex(16)
    port = free_port()
    cmd = [
        sys.executable,
        "-m",
        "jupyterlab" if app == "lab" else "jupyter_server",
        "--no-browser",
        "--allow-root",
        "--ip=127.0.0.1",
        f"--port={port}",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root}",
        "--ServerApp.jpserver_extensions={'tokenfactory': True}",
    ]
    if app == "lab":
        cmd += [
            f"--LabApp.workspaces_dir={base / 'workspaces'}",
            "--LabApp.expose_app_in_browser=True",
        ]
    log = open(base / f"jupyter-{app}.log", "wb")  # noqa: SIM115
    process = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"jupyter exited: {(base / f'jupyter-{app}.log').read_text()}")
            try:
                r = httpx.get(f"{url}/api/status", params={"token": token}, timeout=2)
                if r.status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"jupyter {app} did not start in {timeout} s")
            time.sleep(0.2)
        yield JupyterProcess(url, token, root, runtime, process)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
        log.close()
