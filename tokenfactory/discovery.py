"""Discovery files: each running gateway announces itself in Jupyter's runtime directory.

The JupyterLab server extension reads them to list gateways. The file holds the API key, so it
is created readable by its owner only (0600).
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import Any

PREFIX = "tokenfactory-gateway-"


def runtime_dir() -> Path:
    env = os.environ.get("JUPYTER_RUNTIME_DIR")
    if env:
        path = Path(env)
    else:
        from jupyter_core.paths import jupyter_runtime_dir

        path = Path(jupyter_runtime_dir())
    path.mkdir(parents=True, exist_ok=True)
    return path


def write_discovery(info: dict[str, Any]) -> Path:
    path = runtime_dir() / f"{PREFIX}{info['pid']}-{info['port']}.json"
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(info, f)
    os.replace(tmp, path)
    return path


def remove_discovery(path: Path | None) -> None:
    if path is not None:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def list_gateways(directory: Path | None = None) -> list[dict[str, Any]]:
    """Discovery records of gateways whose process is still alive, newest first."""
    found = []
    for path in sorted((directory or runtime_dir()).glob(f"{PREFIX}*.json")):
        try:
            info = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        if isinstance(info, dict) and _alive(int(info.get("pid", -1))):
            info["file"] = str(path)
            found.append(info)
    return sorted(found, key=lambda i: i.get("started_at", 0), reverse=True)
