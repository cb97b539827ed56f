"""Where a client finds its gateway and key: the one rule the SDK and the widgets share.

The gateway (base URL) is the first of:

1. the ``base_url`` argument;
2. the gateway this kernel serves or attached to with ``tf.serve()``;
3. ``$TOKENFACTORY_BASE_URL``;
4. the newest gateway announced by a discovery file (``tokenfactory.discovery``: every
   running ``tokenfactory serve`` / ``tf.serve()`` on this machine writes one).

The key is the first of: the ``api_key`` argument; ``$TOKENFACTORY_API_KEY`` when
``$TOKENFACTORY_BASE_URL`` is unset or names the chosen gateway (an environment key belongs to
the environment's gateway); the key the chosen gateway announced (the kernel's server or its
discovery file). Every URL is normalized to end in ``/v1``.

No gateway at all is a ``ConfigurationError``.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass

from ._errors import ConfigurationError

BASE_URL_ENV = "TOKENFACTORY_BASE_URL"
API_KEY_ENV = "TOKENFACTORY_API_KEY"


@dataclass(frozen=True)
class GatewayConfig:
    base_url: str
    api_key: str | None

    @property
    def root_url(self) -> str:
        """The server root: ``http://host:port`` for ``http://host:port/v1``."""
        return self.base_url.removesuffix("/v1")


def resolve(api_key: str | None = None, base_url: str | None = None) -> GatewayConfig:
    """The gateway and key to use (see the module docstring for the order)."""
    env_url = _normalize(os.environ.get(BASE_URL_ENV))
    env_key = os.environ.get(API_KEY_ENV) or None
    url = _normalize(base_url) or _first_url(env_url)
    if url is None:
        raise ConfigurationError(
            "No tokenfactory gateway found: start one in this kernel with tf.serve() (or "
            f"`tokenfactory serve` in a terminal), set {BASE_URL_ENV}, or pass base_url=..."
        )
    if api_key is None and env_key is not None and env_url in (None, url):
        api_key = env_key
    if api_key is None:
        api_key = next((key for found, key in _announced() if found == url), None)
    return GatewayConfig(base_url=url, api_key=api_key)


def _first_url(env_url: str | None) -> str | None:
    kernel = _kernel_gateway()
    if kernel is not None:
        return kernel[0]
    if env_url is not None:
        return env_url
    return next((url for url, _ in _discovered()), None)


def _announced() -> Iterator[tuple[str, str | None]]:
    """(base URL, key) of every gateway that told us its key: the kernel's, then discovery's."""
    kernel = _kernel_gateway()
    if kernel is not None:
        yield kernel
    yield from _discovered()


def _kernel_gateway() -> tuple[str, str | None] | None:
    # tf.serve() lives in tokenfactory.server: if that module was never imported, no gateway
    # runs in (or is attached to) this process, and importing it here would only cost time.
    server = sys.modules.get("tokenfactory.server")
    current = getattr(server, "current", None)
    handle = current() if current is not None else None
    if handle is None:
        return None
    return _v1(str(handle.base_url)), getattr(handle, "api_key", None)


def _discovered() -> Iterator[tuple[str, str | None]]:
    """Discovery records of live gateways, newest first."""
    from ..discovery import list_gateways

    try:
        records = list_gateways()
    except ImportError:  # no jupyter_core to name the runtime directory: nothing announced
        return
    for record in records:
        url = _normalize(record.get("base_url"))
        if url is not None:
            yield url, record.get("api_key")


def _normalize(url: str | None) -> str | None:
    return _v1(url) if url else None


def _v1(url: str) -> str:
    url = url.rstrip("/")
    return url if url.endswith("/v1") else url + "/v1"
