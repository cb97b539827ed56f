"""One rule finds the gateway for the SDK and the widgets, and one error tree says when none is.

Precedence (``tokenfactory/sdk/_config.py``): an explicit ``base_url``; the gateway this kernel
serves or attached to (``tf.serve()``); ``$TOKENFACTORY_BASE_URL``; the newest discovery file.
"""

from __future__ import annotations

import os
import sys
import types

import pytest

import tokenfactory as tf
from tokenfactory import running
from tokenfactory.discovery import write_discovery
from tokenfactory.sdk._config import resolve as sdk_resolve
from tokenfactory.widgets.connection import resolve as widget_resolve

ENV_URL = "http://env.test:7001/v1"
DISCOVERED_URL = "http://127.0.0.1:7002/v1"
KERNEL_URL = "http://127.0.0.1:7003/v1"


@pytest.fixture(autouse=True)
def isolated(monkeypatch, tmp_path):
    monkeypatch.delenv("TOKENFACTORY_BASE_URL", raising=False)
    monkeypatch.delenv("TOKENFACTORY_API_KEY", raising=False)
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path))
    kernel_server(monkeypatch, None)


def kernel_server(monkeypatch, handle):
    module = types.ModuleType("tokenfactory.server")
    module.current = lambda: handle  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "tokenfactory.server", module)


def discovered(url: str = DISCOVERED_URL, key: str = "tf-discovered") -> None:
    port = int(url.rsplit(":", 1)[1].split("/")[0])
    write_discovery(
        {"base_url": url, "pid": os.getpid(), "port": port, "api_key": key, "started_at": 1.0}
    )


def both(**kwargs):
    sdk, widget = sdk_resolve(**kwargs), widget_resolve(**kwargs)
    assert (sdk.base_url, sdk.api_key) == (widget.base_url, widget.api_key)
    return sdk


def test_the_environment_beats_discovery_files(monkeypatch):
    discovered()
    monkeypatch.setenv("TOKENFACTORY_BASE_URL", ENV_URL)
    monkeypatch.setenv("TOKENFACTORY_API_KEY", "tf-env")
    found = both()
    assert (found.base_url, found.api_key) == (ENV_URL, "tf-env")


def test_the_kernels_gateway_beats_the_environment(monkeypatch):
    monkeypatch.setenv("TOKENFACTORY_BASE_URL", ENV_URL)
    monkeypatch.setenv("TOKENFACTORY_API_KEY", "tf-env")
    kernel_server(monkeypatch, types.SimpleNamespace(base_url=KERNEL_URL, api_key="tf-kernel"))
    found = both()
    # the environment's key belongs to the environment's gateway, not to this one
    assert (found.base_url, found.api_key) == (KERNEL_URL, "tf-kernel")


def test_a_discovery_file_is_the_last_resort():
    discovered()
    found = both()
    assert (found.base_url, found.api_key) == (DISCOVERED_URL, "tf-discovered")


def test_an_explicit_url_takes_the_key_announced_for_it():
    discovered()
    found = both(base_url=DISCOVERED_URL.removesuffix("/v1") + "/")
    assert (found.base_url, found.api_key) == (DISCOVERED_URL, "tf-discovered")
    assert both(base_url="http://elsewhere.test/v1").api_key is None


def test_the_environment_key_serves_any_gateway_when_no_url_is_set(monkeypatch):
    monkeypatch.setenv("TOKENFACTORY_API_KEY", "tf-workspace")
    discovered()
    assert both().api_key == "tf-workspace"


def test_no_gateway_is_the_same_sdk_error_everywhere():
    for find in (sdk_resolve, widget_resolve, tf.TokenFactory):
        with pytest.raises(tf.ConfigurationError, match=r"tf\.serve\(\)") as caught:
            find()
        assert isinstance(caught.value, tf.TokenFactoryError)


def test_the_sdk_and_tf_serve_read_one_list_of_gateways(monkeypatch):
    """``tokenfactory.running`` names the gateways; the SDK takes the first, tf.serve() attaches
    to the first that answers: the same order, the same keys."""
    discovered()
    monkeypatch.setenv("TOKENFACTORY_BASE_URL", ENV_URL)
    named = running.named_gateways()
    assert [(g.base_url, g.api_key, g.found_by) for g in named] == [
        (ENV_URL, None, "$TOKENFACTORY_BASE_URL"),
        (DISCOVERED_URL, "tf-discovered", named[1].found_by),
    ]
    assert named[1].found_by.endswith(".json")
    assert both().base_url == ENV_URL

    # the environment names an announced gateway: without an environment key, the file's key
    monkeypatch.setenv("TOKENFACTORY_BASE_URL", DISCOVERED_URL.removesuffix("/v1"))
    first = running.named_gateways()[0]
    assert (first.base_url, first.api_key, first.pid) == (
        DISCOVERED_URL,
        "tf-discovered",
        os.getpid(),
    )
    assert (both().base_url, both().api_key) == (DISCOVERED_URL, "tf-discovered")
