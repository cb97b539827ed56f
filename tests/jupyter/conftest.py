from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.jupyter.jupyter_process import running_jupyter


@pytest.fixture(scope="module")
def jupyter(tmp_path_factory):
    base = tmp_path_factory.mktemp("jupyter-server")
    with running_jupyter(base) as proc:
        yield proc


@pytest.fixture
def runtime_dir(jupyter, monkeypatch) -> Path:
    """Gateways this test announces land where the Jupyter server looks for them."""
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(jupyter.runtime_dir))
    for stale in jupyter.runtime_dir.glob("tokenfactory-gateway-*.json"):
        stale.unlink()
    assert os.environ["JUPYTER_RUNTIME_DIR"] == str(jupyter.runtime_dir)
    return jupyter.runtime_dir
