"""``tokenfactory lab`` prints (and opens) the quickstart's URL, not the Launcher's (issue 15).

Runs the real ``jupyter lab`` command line that ``tokenfactory lab`` builds (without the gateway
it also starts) and reads the URL Jupyter prints."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import threading
import time
from pathlib import Path
from urllib.parse import urlparse

import httpx

from tests.jupyter.jupyter_process import free_port
from tokenfactory.cli import build_parser
from tokenfactory.cli_serve import lab_command

REPO = Path(__file__).resolve().parents[2]
QUICKSTART = "notebooks/01-quickstart.ipynb"


def test_printed_lab_url_opens_the_quickstart(tmp_path, monkeypatch):
    project = tmp_path / "project"
    (project / "notebooks").mkdir(parents=True)
    shutil.copy(REPO / QUICKSTART, project / QUICKSTART)
    monkeypatch.chdir(project)
    port = free_port()
    args = build_parser().parse_args(
        ["lab", "--", "--no-browser", "--ip=127.0.0.1", f"--port={port}", "--port-retries=0"]
    )
    env = {
        **os.environ,
        "JUPYTER_CONFIG_DIR": str(tmp_path / "config"),
        "JUPYTER_DATA_DIR": str(tmp_path / "data"),
        "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),
        "IPYTHONDIR": str(tmp_path / "ipython"),
        "JUPYTER_PLATFORM_DIRS": "1",
    }
    process = subprocess.Popen(
        lab_command(args), env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    printed: list[str] = []
    reader = threading.Thread(target=lambda: printed.extend(process.stdout), daemon=True)
    reader.start()
    pattern = re.compile(rf"http://127\.0\.0\.1:{port}/\S*token=\S+")
    try:
        deadline = time.monotonic() + 90
        while not any(pattern.search(line) for line in list(printed)):
            assert process.poll() is None, "".join(printed)
            assert time.monotonic() < deadline, "".join(printed)
            time.sleep(0.2)
        url = next(pattern.search(line).group(0) for line in list(printed) if pattern.search(line))
        assert urlparse(url).path == f"/lab/tree/{QUICKSTART}", url
        page = httpx.get(url, timeout=30)
        assert page.status_code == 200
        # the root redirects there too (what the auto-opened browser lands on)
        root = httpx.get(f"http://127.0.0.1:{port}/", params=dict([url.split("?")[1].split("=")]))
        assert root.status_code in (301, 302)
        assert root.headers["location"].split("?")[0].endswith(f"/lab/tree/{QUICKSTART}")
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
