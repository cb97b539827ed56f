"""Where a widget (or the Jupyter server extension) finds a gateway and its key.

Order: an explicit ``base_url``/``api_key``; the gateway running in this kernel
(``tf.serve()``); a gateway found through its discovery file (``tokenfactory.discovery``);
``$TOKENFACTORY_BASE_URL``/``$TOKENFACTORY_API_KEY``. The key never reaches the browser.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from ..errors import ServiceUnavailableError


@dataclass(frozen=True)
class Connection:
    base_url: str
    api_key: str | None

    @property
    def root_url(self) -> str:
        """The server root: ``http://host:port`` for ``http://host:port/v1``."""
        url = self.base_url.rstrip("/")
        return url[: -len("/v1")] if url.endswith("/v1") else url


def _normalize(url: str) -> str:
    url = url.rstrip("/")
    return url if url.endswith("/v1") else url + "/v1"


def _in_kernel_gateway() -> tuple[str, str | None] | None:
    try:
        from ..server import current
    except ImportError:
        return None
    handle = current()
    if handle is None:
        return None
    return handle.base_url, handle.api_key


def _discovered_gateways() -> list[dict]:
    try:
        from ..discovery import list_gateways
    except ImportError:
        return []
    return [_as_dict(g) for g in list_gateways()]


def _as_dict(gateway: object) -> dict:
    if isinstance(gateway, dict):
        return gateway
    if hasattr(gateway, "to_dict"):
        return gateway.to_dict()
    return dict(vars(gateway))


def resolve(base_url: str | None = None, api_key: str | None = None) -> Connection:
    """Find the gateway to talk to; raise ``ServiceUnavailableError`` when there is none."""
    env_url = os.environ.get("TOKENFACTORY_BASE_URL")
    env_key = os.environ.get("TOKENFACTORY_API_KEY")
    if base_url is None:
        local = _in_kernel_gateway()
        if local is not None:
            return Connection(_normalize(local[0]), api_key or local[1])
        found = _discovered_gateways()
        if found:
            newest = max(found, key=lambda g: g.get("started_at") or 0)
            return Connection(_normalize(newest["base_url"]), api_key or newest.get("api_key"))
        if env_url:
            return Connection(_normalize(env_url), api_key or env_key)
        raise ServiceUnavailableError(
            "No Token Factory gateway found: start one with tf.serve() "
            "or pass base_url= and api_key=",
            code="no_gateway",
        )
    url = _normalize(base_url)
    if api_key is None:
        api_key = _key_for(url) or env_key
    return Connection(url, api_key)


def _key_for(url: str) -> str | None:
    local = _in_kernel_gateway()
    if local is not None and _normalize(local[0]) == url:
        return local[1]
    for gateway in _discovered_gateways():
        if _normalize(gateway.get("base_url", "")) == url:
            return gateway.get("api_key")
    return None
