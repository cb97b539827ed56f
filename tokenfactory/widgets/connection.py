"""Where a widget (or the Jupyter server extension) finds a gateway and its key.

The same rule as the SDK's, from the same code (``tokenfactory.sdk._config``): an explicit
``base_url``; the gateway this kernel serves or attached to (``tf.serve()``);
``$TOKENFACTORY_BASE_URL``; the newest discovery file. No gateway is the SDK's
``ConfigurationError``. The key never reaches the browser.
"""

from __future__ import annotations

from ..sdk._config import GatewayConfig as Connection
from ..sdk._config import resolve as _resolve

__all__ = ["Connection", "resolve"]


def resolve(base_url: str | None = None, api_key: str | None = None) -> Connection:
    """Find the gateway to talk to; raise ``tf.ConfigurationError`` when there is none."""
    return _resolve(api_key=api_key, base_url=base_url)
