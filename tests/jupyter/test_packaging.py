"""After ``pip install -e .`` Jupyter sees both extensions, enabled."""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys

import pytest

try:
    importlib.metadata.distribution("tokenfactory")
except importlib.metadata.PackageNotFoundError:
    pytest.skip("tokenfactory is not installed (pip install -e .)", allow_module_level=True)


def jupyter(*args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "jupyter", *args], capture_output=True, text=True, timeout=120
    )
    return done.stdout + done.stderr


def test_labextension_is_installed_and_enabled():
    lines = [
        line for line in jupyter("labextension", "list").splitlines() if "tokenfactory" in line
    ]
    assert lines, "tokenfactory is not in `jupyter labextension list`"
    assert "enabled" in lines[0] and "OK" in lines[0]


def test_server_extension_is_enabled():
    out = jupyter("server", "extension", "list")
    assert any("tokenfactory" in line and "enabled" in line for line in out.splitlines())
    assert "tokenfactory 0" in out and "OK" in out
