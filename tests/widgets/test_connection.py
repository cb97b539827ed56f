"""How a widget finds its gateway: in-kernel server, environment, discovery files."""

from __future__ import annotations

import os
import time

import pytest

from tokenfactory.discovery import write_discovery
from tokenfactory.sdk import ConfigurationError
from tokenfactory.widgets.connection import resolve
from tokenfactory.widgets.playground import Playground


@pytest.fixture(autouse=True)
def no_in_kernel_server(monkeypatch):
    """A session-wide tf.serve() from other tests would otherwise win the resolution."""
    monkeypatch.setattr("tokenfactory.sdk._config._kernel_gateway", lambda: None)


def announce(gateway, port: int | None = None) -> None:
    write_discovery(
        {
            "base_url": gateway.base_url,
            "pid": os.getpid(),
            "port": port or int(gateway.base_url.rsplit(":", 1)[1].split("/")[0]),
            "api_key": gateway.api_key,
            "started_at": time.time(),
        }
    )


def test_no_gateway_is_a_clear_error(monkeypatch):
    monkeypatch.delenv("TOKENFACTORY_BASE_URL", raising=False)
    monkeypatch.setattr("tokenfactory.server._current", None)  # a session-wide tf.serve()
    with pytest.raises(ConfigurationError, match=r"tf\.serve\(\)"):
        resolve()
    pg = Playground()
    assert "No tokenfactory gateway found" in pg.error


def test_a_discovered_gateway_is_used_with_its_key(gateway):
    announce(gateway)
    conn = resolve()
    assert conn.base_url == gateway.base_url and conn.api_key == gateway.api_key
    pg = Playground()
    pg.wait()
    assert pg.error == "" and pg.model == "test/chat"


def test_an_explicit_url_takes_the_key_from_discovery(gateway):
    announce(gateway)
    root = gateway.base_url[: -len("/v1")]
    conn = resolve(root + "/")
    assert conn.base_url == gateway.base_url and conn.api_key == gateway.api_key
    assert conn.root_url == root


def test_the_environment_names_a_gateway(monkeypatch, gateway):
    monkeypatch.setenv("TOKENFACTORY_BASE_URL", gateway.base_url)
    monkeypatch.setenv("TOKENFACTORY_API_KEY", gateway.api_key)
    conn = resolve()
    assert conn == resolve(gateway.base_url)
    assert conn.api_key == gateway.api_key
