"""The quickstart under `make lab` starts exactly one engine: run notebooks/01 in a real kernel
whose environment is the one `tokenfactory lab` gives its kernels, next to a running gateway."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
from nbclient import NotebookClient

QUICKSTART = Path(__file__).resolve().parents[2] / "notebooks" / "01-quickstart.ipynb"

CHECK = """
import json
import sys
print(json.dumps({
    "mode": server.mode,
    "base_url": server.base_url,
    "engine_modules": sorted(
        m for m in sys.modules if m == "torch" or m.startswith(("tokenfactory.engine.hf", "vllm"))
    ),
}))
"""


def test_quickstart_in_a_lab_kernel_attaches_and_loads_no_engine(server, monkeypatch, tmp_path):
    monkeypatch.setenv("TOKENFACTORY_BASE_URL", server.base_url)
    monkeypatch.setenv("TOKENFACTORY_API_KEY", server.api_key)
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path / "runtime"))
    nb = nbformat.read(QUICKSTART, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(CHECK))
    NotebookClient(nb, timeout=600, kernel_name="python3", resources={}).execute()

    result = json.loads(nb.cells[-1].outputs[-1]["text"])
    assert result["mode"] == "attached"
    assert result["base_url"] == server.base_url
    assert result["engine_modules"] == []  # the kernel loaded no engine of its own
    first = "".join(o.get("text", "") for o in nb.cells[1].outputs)
    assert "attached to the gateway already running at " + server.base_url in first
