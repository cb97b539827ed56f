"""Where the client connects: arguments, then tf.serve()'s server, then the environment.

(tests/sdk/test_gateway_resolution.py holds the rest of the rule, shared with the widgets.)
"""

from __future__ import annotations

import sys
import types

import pytest

from tokenfactory.sdk import ConfigurationError, TokenFactory
from tokenfactory.sdk._config import resolve


@pytest.fixture(autouse=True)
def clean_env(monkeypatch, tmp_path):
    monkeypatch.delenv("TOKENFACTORY_BASE_URL", raising=False)
    monkeypatch.delenv("TOKENFACTORY_API_KEY", raising=False)
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path))  # no discovered gateways
    monkeypatch.setattr("tokenfactory.server._current", None)  # no session-wide tf.serve()


@pytest.fixture
def running_server(monkeypatch):
    handle = types.SimpleNamespace(base_url="http://127.0.0.1:5555/v1", api_key="tf-kernel")
    module = types.ModuleType("tokenfactory.server")
    module.current = lambda: handle
    monkeypatch.setitem(sys.modules, "tokenfactory.server", module)
    return handle


def test_arguments_win(monkeypatch, running_server):
    monkeypatch.setenv("TOKENFACTORY_BASE_URL", "http://env/v1")
    monkeypatch.setenv("TOKENFACTORY_API_KEY", "tf-env")
    config = resolve(api_key="tf-arg", base_url="http://arg/v1/")
    assert (config.base_url, config.api_key) == ("http://arg/v1", "tf-arg")


def test_environment_without_a_server(monkeypatch):
    monkeypatch.setenv("TOKENFACTORY_BASE_URL", "http://env/v1")
    monkeypatch.setenv("TOKENFACTORY_API_KEY", "tf-env")
    config = resolve()
    assert (config.base_url, config.api_key) == ("http://env/v1", "tf-env")


def test_running_server_next(running_server):
    config = resolve()
    assert (config.base_url, config.api_key) == ("http://127.0.0.1:5555/v1", "tf-kernel")
    client = TokenFactory()
    assert str(client.base_url) == "http://127.0.0.1:5555/v1"
    assert client.api_key == "tf-kernel"
    client.close()


def test_server_key_only_for_the_server_url(running_server):
    assert resolve(base_url="http://127.0.0.1:5555/v1/").api_key == "tf-kernel"
    assert resolve(base_url="http://elsewhere/v1").api_key is None


def test_env_url_without_key(monkeypatch):
    monkeypatch.setenv("TOKENFACTORY_BASE_URL", "http://env/v1")
    assert resolve().api_key is None


def test_nothing_to_connect_to(monkeypatch):
    module = types.ModuleType("tokenfactory.server")
    module.current = lambda: None
    monkeypatch.setitem(sys.modules, "tokenfactory.server", module)
    with pytest.raises(ConfigurationError, match=r"tf\.serve"):
        TokenFactory()


def test_server_module_not_imported_means_no_server(monkeypatch):
    monkeypatch.delitem(sys.modules, "tokenfactory.server", raising=False)
    with pytest.raises(ConfigurationError):
        resolve()
    assert "tokenfactory.server" not in sys.modules
