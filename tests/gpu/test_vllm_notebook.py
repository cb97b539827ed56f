"""The quickstart notebook, executed top to bottom in a real kernel, served by vLLM."""

from __future__ import annotations

from pathlib import Path

import pytest

pytestmark = pytest.mark.gpu

NOTEBOOK = Path(__file__).parents[2] / "notebooks" / "01-quickstart.ipynb"


def test_quickstart_notebook_runs_on_vllm(gpu_env, tmp_path):
    nbformat = pytest.importorskip("nbformat")
    from nbclient import NotebookClient

    notebook = nbformat.read(NOTEBOOK, as_version=4)
    notebook.cells.append(
        nbformat.v4.new_code_cell("print('TF_ENGINE=' + server.engine.name)\nserver.stop()")
    )
    env = {**gpu_env, "TOKENFACTORY_HOME": str(tmp_path / "home")}
    client = NotebookClient(
        notebook,
        timeout=1200,
        kernel_name="python3",
        resources={"metadata": {"path": str(NOTEBOOK.parent)}},
    )
    # the kernel inherits the environment: PYTHONPATH with vLLM, the memory split, spawn
    import os

    saved = dict(os.environ)
    os.environ.update(env)
    try:
        client.execute()
    finally:
        os.environ.clear()
        os.environ.update(saved)
    printed = "".join(
        output.get("text", "")
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.get("outputs", [])
    )
    assert "TF_ENGINE=vllm" in printed
    assert "Paris" in printed
