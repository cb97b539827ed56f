"""Where this user's tokenfactory gateways are: the one owner of that rule.

A gateway is named, in order, by ``$TOKENFACTORY_BASE_URL`` (with ``$TOKENFACTORY_API_KEY``, or
else the key its discovery file announced), then by this user's discovery files, newest first
(``tokenfactory.discovery``: every running ``tokenfactory serve`` / ``tf.serve()`` writes one).

Two readers: the SDK's resolver (``tokenfactory.sdk._config``) takes the first named gateway
without asking it anything; ``tf.serve()``, ``tokenfactory serve``, ``tokenfactory lab`` and the
CLI attach only to one that answers (``find_running``: its ``/health`` answers as tokenfactory's
and its engine has not failed). One engine per machine.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

BASE_URL_ENV = "TOKENFACTORY_BASE_URL"
API_KEY_ENV = "TOKENFACTORY_API_KEY"
SERVICE = "tokenfactory"  # what GET /health says in its "service" field


@dataclass(frozen=True)
class NamedGateway:
    """A gateway the environment or a discovery file names (not yet asked whether it runs)."""

    base_url: str  # ends in /v1
    api_key: str | None = field(repr=False)
    pid: int | None
    found_by: str  # "$TOKENFACTORY_BASE_URL" or the discovery file's path


@dataclass(frozen=True)
class RunningGateway(NamedGateway):
    health: dict[str, Any] = field(repr=False, default_factory=dict)

    @property
    def root_url(self) -> str:
        return root_of(self.base_url)


def normalize(url: str) -> str:
    url = url.rstrip("/")
    return url if url.endswith("/v1") else url + "/v1"


def root_of(base_url: str) -> str:
    return normalize(base_url)[: -len("/v1")]


def environment_url() -> str | None:
    """``$TOKENFACTORY_BASE_URL``, normalized; None when unset or empty."""
    url = os.environ.get(BASE_URL_ENV)
    return normalize(url) if url else None


def environment_key() -> str | None:
    return os.environ.get(API_KEY_ENV) or None


def named_gateways() -> list[NamedGateway]:
    """Every gateway named for this user, in the order to try them (see the module docstring)."""
    announced = [
        NamedGateway(normalize(r["base_url"]), r.get("api_key"), r.get("pid"), r["file"])
        for r in _own_records()
        if r.get("base_url")
    ]
    env_url = environment_url()
    if env_url is None:
        return announced
    same = next((g for g in announced if g.base_url == env_url), None)
    key = environment_key() or (same.api_key if same else None)
    by_env = NamedGateway(env_url, key, same.pid if same else None, f"${BASE_URL_ENV}")
    return [by_env, *announced]


def probe(base_url: str, api_key: str | None = None, timeout: float = 2.0) -> dict[str, Any] | None:
    """The ``/health`` body of a tokenfactory gateway at ``base_url``, or None if there is none.

    With ``api_key`` the body has the details (paths, errors) an anonymous probe does not see.
    """
    import httpx

    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    try:
        r = httpx.get(root_of(base_url) + "/health", headers=headers, timeout=timeout)
        body = r.json()
    except (httpx.HTTPError, ValueError):
        return None
    if r.status_code not in (200, 503) or not isinstance(body, dict):
        return None
    return body if body.get("service") == SERVICE else None


def find_running() -> RunningGateway | None:
    """The first named gateway that answers and has not failed, or None."""
    for named in named_gateways():
        health = probe(named.base_url)
        if health is not None and health.get("status") != "failed":
            return RunningGateway(named.base_url, named.api_key, named.pid, named.found_by, health)
    return None


def _own_records() -> list[dict[str, Any]]:
    """This user's discovery records of live gateways, newest first."""
    from .discovery import list_gateways

    try:
        records = list_gateways()
    except ImportError:  # no jupyter_core to name the runtime directory: nothing announced
        return []
    mine = []
    for record in records:
        try:
            if os.stat(record["file"]).st_uid != os.getuid():
                continue
        except OSError:
            continue
        mine.append(record)
    return mine
