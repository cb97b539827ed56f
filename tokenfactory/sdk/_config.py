"""Where the client connects and with which key.

Each setting comes from the first of: the constructor argument, the environment
(``TOKENFACTORY_BASE_URL``, ``TOKENFACTORY_API_KEY``), the gateway this kernel started with
``tf.serve()``.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from typing import Any

from ._errors import ConfigurationError

BASE_URL_ENV = "TOKENFACTORY_BASE_URL"
API_KEY_ENV = "TOKENFACTORY_API_KEY"


@dataclass(frozen=True)
class ClientConfig:
    base_url: str
    api_key: str | None


def resolve(api_key: str | None = None, base_url: str | None = None) -> ClientConfig:
    base_url = base_url or os.environ.get(BASE_URL_ENV) or None
    api_key = api_key or os.environ.get(API_KEY_ENV) or None
    if base_url is None or api_key is None:
        server = _running_server()
        if server is not None and (base_url is None or _same_url(base_url, server.base_url)):
            base_url = base_url or server.base_url
            api_key = api_key or getattr(server, "api_key", None)
    if base_url is None:
        raise ConfigurationError(
            "No tokenfactory server to talk to: pass base_url=..., set "
            f"{BASE_URL_ENV}, or start one in this kernel with tf.serve()."
        )
    return ClientConfig(base_url=base_url.rstrip("/"), api_key=api_key)


def _running_server() -> Any:
    # tf.serve() lives in tokenfactory.server: if that module was never imported, no gateway
    # runs in this process, and importing it here would only cost time.
    server = sys.modules.get("tokenfactory.server")
    if server is None:
        return None
    current = getattr(server, "current", None)
    return current() if current is not None else None


def _same_url(a: str, b: str) -> bool:
    return a.rstrip("/") == str(b).rstrip("/")
