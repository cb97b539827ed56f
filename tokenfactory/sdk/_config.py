"""Where a client finds its gateway and key: the one rule the SDK and the widgets share.

The gateway (base URL) is the first of:

1. the ``base_url`` argument;
2. the gateway this kernel serves or attached to with ``tf.serve()``;
3. ``$TOKENFACTORY_BASE_URL``;
4. the newest gateway announced by one of this user's discovery files (``tokenfactory.discovery``:
   every running ``tokenfactory serve`` / ``tf.serve()`` on this machine writes one).

3 and 4 are ``tokenfactory.running``'s rule, the one ``tf.serve()`` attaches by (which, unlike
this resolver, also asks each gateway whether it answers).

The key is the first of: the ``api_key`` argument; ``$TOKENFACTORY_API_KEY`` when
``$TOKENFACTORY_BASE_URL`` is unset or names the chosen gateway (an environment key belongs to
the environment's gateway); the key the chosen gateway announced (the kernel's server or its
discovery file). Every URL is normalized to end in ``/v1``.

No gateway at all is a ``ConfigurationError``.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass

from ..running import (
    BASE_URL_ENV,
    NamedGateway,
    environment_key,
    environment_url,
    named_gateways,
    normalize,
)
from ._errors import ConfigurationError


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
    env_url, env_key = environment_url(), environment_key()
    url = normalize(base_url) if base_url else next((g.base_url for g in _gateways()), None)
    if url is None:
        raise ConfigurationError(
            "No tokenfactory gateway found: start one in this kernel with tf.serve() (or "
            f"`tokenfactory serve` in a terminal), set {BASE_URL_ENV}, or pass base_url=..."
        )
    if api_key is None and env_key is not None and env_url in (None, url):
        api_key = env_key
    if api_key is None:
        api_key = next((g.api_key for g in _gateways() if g.base_url == url), None)
    return GatewayConfig(base_url=url, api_key=api_key)


def _gateways() -> Iterator[NamedGateway]:
    """The kernel's gateway, then those ``tokenfactory.running`` names (read only if needed)."""
    kernel = _kernel_gateway()
    if kernel is not None:
        yield kernel
    yield from named_gateways()


def _kernel_gateway() -> NamedGateway | None:
    # tf.serve() lives in tokenfactory.server: if that module was never imported, no gateway
    # runs in (or is attached to) this process, and importing it here would only cost time.
    server = sys.modules.get("tokenfactory.server")
    current = getattr(server, "current", None)
    handle = current() if current is not None else None
    if handle is None:
        return None
    key = getattr(handle, "api_key", None)
    return NamedGateway(
        normalize(str(handle.base_url)), key, getattr(handle, "pid", None), "tf.serve()"
    )
