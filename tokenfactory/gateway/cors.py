"""CORS: the web origins whose pages may call the gateway from a browser (``--cors-origin``).

None by default: a browser then refuses a page's cross-origin ``fetch()`` to the gateway, as
it always did. With origins given, Starlette's ``CORSMiddleware`` answers preflights (any
method, any request header, ``Authorization`` included) and marks the answers of those origins
readable, streams too. It wraps the whole application, outside Starlette's own error
middleware, so every answer carries the headers: an error, a 413 from the body guard, a 503
while draining, even a 500.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from ..errors import InvalidRequestError

if TYPE_CHECKING:
    from fastapi import FastAPI
    from starlette.types import ASGIApp

#: Response headers a page's script may read besides the CORS-safelisted ones.
EXPOSED_HEADERS = [
    "x-request-id",
    "x-ratelimit-limit",
    "x-ratelimit-remaining",
    "x-ratelimit-reset",
    "retry-after",
]
PREFLIGHT_MAX_AGE_S = 600


def check_origins(origins: Iterable[str] | None) -> list[str]:
    """Each origin as a browser sends it (``scheme://host[:port]``, lower case, no path), or
    ``*`` for every origin; a 400 naming the first one that is not an origin."""
    checked: list[str] = []
    for given in origins or []:
        origin = given.strip().rstrip("/")
        if origin != "*":
            parts = urlsplit(origin)
            if (
                parts.scheme not in ("http", "https")
                or not parts.hostname
                or parts.path
                or parts.query
                or parts.fragment
                or parts.username
            ):
                raise InvalidRequestError(
                    f"CORS origin '{given}' is not an origin: give scheme://host[:port] (e.g."
                    " http://localhost:3000), or * for any origin",
                    param="cors_origin",
                    code="invalid_cors_origin",
                )
            origin = f"{parts.scheme}://{parts.netloc.lower()}"
        if origin not in checked:
            checked.append(origin)
    return checked


def install_cors(app: FastAPI, origins: list[str]) -> None:
    """Answer CORS for ``origins`` (checked by :func:`check_origins`); nothing when empty."""
    if not origins:
        return
    from starlette.middleware.cors import CORSMiddleware

    build_inner = app.build_middleware_stack

    def build_with_cors() -> ASGIApp:
        return CORSMiddleware(
            build_inner(),
            allow_origins=origins,
            allow_methods=["*"],
            allow_headers=["*"],
            expose_headers=EXPOSED_HEADERS,
            max_age=PREFLIGHT_MAX_AGE_S,
        )

    # Outside everything add_middleware can reach (ServerErrorMiddleware answers a 500 there).
    app.build_middleware_stack = build_with_cors  # type: ignore[method-assign]
