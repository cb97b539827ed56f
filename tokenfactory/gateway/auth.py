"""Who is calling: ``Authorization: Bearer KEY`` or ``?api_key=KEY`` → the key's workspace."""

from __future__ import annotations

from fastapi import Depends, Request

from ..errors import ForbiddenError, UnauthenticatedError
from ..store import Principal


def api_key_from(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if header:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise UnauthenticatedError(
                "Malformed Authorization header: expected 'Bearer KEY'", code="invalid_api_key"
            )
        return token.strip()
    return request.query_params.get("api_key")


async def authenticate(request: Request) -> Principal:
    """FastAPI dependency: the caller's principal, or 401."""
    cached = getattr(request.state, "principal", None)
    if cached is not None:
        return cached
    principal = request.app.state.core.keys.authenticate(api_key_from(request))
    request.state.principal = principal
    return principal


def optional_principal(request: Request) -> Principal | None:
    """The caller's principal, or None without a valid key (routes open to anyone)."""
    try:
        key = api_key_from(request)
        return None if key is None else request.app.state.core.keys.authenticate(key)
    except UnauthenticatedError:
        return None


async def require_admin(
    request: Request, principal: Principal = Depends(authenticate)
) -> Principal:
    """FastAPI dependency: an admin principal, or 403. Admin keys: the key of whoever started the
    gateway (``tf.serve()``, ``tokenfactory serve``, ``make lab``) and ``keys create --admin``."""
    if not principal.is_admin:
        raise ForbiddenError(
            f"{request.method} {request.url.path} needs an admin key (the key of whoever started"
            " the gateway, or one from `tokenfactory keys create --admin`)"
        )
    return principal
