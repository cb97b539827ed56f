"""Find the tokenfactory gateway already running for this user on this machine.

One engine per machine: ``tf.serve()``, ``tokenfactory serve``, ``tokenfactory lab`` and the CLI
look here before starting anything. Candidates, in order: the gateway named by
``$TOKENFACTORY_BASE_URL`` (with ``$TOKENFACTORY_API_KEY``), then this user's discovery files,
newest first. A candidate counts only if its ``/health`` answers as tokenfactory's and its engine
has not failed.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

BASE_URL_ENV = "TOKENFACTORY_BASE_URL"
API_KEY_ENV = "TOKENFACTORY_API_KEY"
SERVICE = "tokenfactory"  # what GET /health says in its "service" field


@dataclass(frozen=True)
class RunningGateway:
    base_url: str  # ends in /v1
    api_key: str | None = field(repr=False)
    pid: int | None
    found_by: str  # "$TOKENFACTORY_BASE_URL" or the discovery file's path
    health: dict[str, Any] = field(repr=False, default_factory=dict)

    @property
    def root_url(self) -> str:
        return root_of(self.base_url)


def normalize(url: str) -> str:
    url = url.rstrip("/")
    return url if url.endswith("/v1") else url + "/v1"


def root_of(base_url: str) -> str:
    return normalize(base_url)[: -len("/v1")]


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


def _usable(health: dict[str, Any] | None) -> bool:
    return health is not None and health.get("status") != "failed"


def _own_records() -> list[dict[str, Any]]:
    from .discovery import list_gateways

    mine = []
    for record in list_gateways():
        try:
            if os.stat(record["file"]).st_uid != os.getuid():
                continue
        except OSError:
            continue
        mine.append(record)
    return mine


def find_running(exclude_pid: int | None = None) -> RunningGateway | None:
    """The gateway to attach to, or None when none answers."""
    records = [r for r in _own_records() if r.get("pid") != exclude_pid]
    env_url = os.environ.get(BASE_URL_ENV)
    if env_url:
        url = normalize(env_url)
        health = probe(url)
        if _usable(health):
            record = next((r for r in records if normalize(r.get("base_url", "")) == url), {})
            key = os.environ.get(API_KEY_ENV) or record.get("api_key")
            return RunningGateway(url, key, record.get("pid"), f"${BASE_URL_ENV}", health or {})
    for record in records:
        url = normalize(record.get("base_url", ""))
        health = probe(url)
        if _usable(health):
            pid = record.get("pid")
            return RunningGateway(url, record.get("api_key"), pid, record["file"], health or {})
    return None
