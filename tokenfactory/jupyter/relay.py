"""Calls from the Jupyter server to a discovered gateway, with the key from its discovery file."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import httpx

from ..discovery import list_gateways

TIMEOUT = httpx.Timeout(3.0)
#: an action may take a while: a training cancel waits for the trainer's next step (up to 10 s)
ACTION_TIMEOUT = httpx.Timeout(30.0)
# gateway routes the relay may read, by the name the browser uses
RESOURCES = {
    "health": "/health",
    "models": "/v1/models",
    "batches": "/v1/batch",
    "adapters": "/v1/adapters",
}
# What a page may ask a gateway to do through the relay: the widget buttons that must work
# while a cell keeps the kernel busy (a click sent to the kernel waits behind that cell).
# name -> (method, route with the action's target in it)
ACTIONS = {
    "cancel-batch": ("DELETE", "/v1/batch/{target}"),
    "cancel-training": ("POST", "/v1/adapters/{target}/cancel"),
    "cancel-request": ("POST", "/v1/requests/{target}/cancel"),  # a stream, by X-Request-ID
}
TARGET = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,199}")
BATCH_ACTIVE = {"validating", "queued", "in_progress", "running", "finalizing", "cancelling"}
JOBS_SHOWN = 5  # per kind, in the sidebar
TRAINING_ACTIVE = {"queued", "pending", "validating", "training", "running"}


def gateway_id(record: dict) -> str:
    return f"{record.get('pid')}-{record.get('port')}"


def public(record: dict) -> dict:
    """What the browser may see of a discovery record (no key, no file path)."""
    keys = ("base_url", "pid", "port", "engine", "device", "started_at", "version", "workspace")
    return {"id": gateway_id(record), **{k: record.get(k) for k in keys}}


def find(gid: str) -> dict | None:
    for record in list_gateways():
        if gateway_id(record) == gid:
            return record
    return None


def _root(record: dict) -> str:
    url = str(record["base_url"]).rstrip("/")
    return url[: -len("/v1")] if url.endswith("/v1") else url


async def fetch(client: httpx.AsyncClient, record: dict, resource: str) -> tuple[int, Any]:
    """(status, JSON body) of one gateway route; connection failures become a 502 body."""
    headers = {"Authorization": f"Bearer {record['api_key']}"} if record.get("api_key") else {}
    url = _root(record) + RESOURCES[resource]
    try:
        response = await client.get(url, headers=headers, timeout=TIMEOUT)
    except httpx.HTTPError as exc:
        return 502, _error(f"Cannot reach the gateway at {url}: {exc}", "bad_gateway")
    try:
        return response.status_code, response.json()
    except ValueError:
        message = f"The gateway answered {response.status_code} without JSON"
        return 502, _error(message, "bad_gateway")


def find_by_url(base_url: str, api_key: str | None) -> dict | None:
    """The discovery record of the gateway at ``base_url`` when ``api_key`` is its key (the
    relay acts with the discovery file's key, so only for a caller that holds the same)."""
    wanted = base_url.rstrip("/")
    for record in list_gateways():
        if str(record.get("base_url", "")).rstrip("/") == wanted:
            return record if record.get("api_key") == api_key else None
    return None


async def act(client: httpx.AsyncClient, record: dict, action: str, target: str) -> tuple[int, Any]:
    """(status, JSON body) of one of ``ACTIONS`` on a gateway."""
    if action not in ACTIONS:
        known = ", ".join(sorted(ACTIONS))
        return 404, _error(f"Unknown action '{action}' (known: {known})", "action_not_found", 404)
    if not TARGET.fullmatch(target):
        return 400, _error(f"'{target}' is not a batch id or adapter name", "invalid_target", 400)
    method, route = ACTIONS[action]
    headers = {"Authorization": f"Bearer {record['api_key']}"} if record.get("api_key") else {}
    url = _root(record) + route.format(target=target)
    try:
        response = await client.request(method, url, headers=headers, timeout=ACTION_TIMEOUT)
    except httpx.HTTPError as exc:
        return 502, _error(f"Cannot reach the gateway at {url}: {exc}", "bad_gateway")
    try:
        return response.status_code, response.json()
    except ValueError:
        message = f"The gateway answered {response.status_code} without JSON"
        return 502, _error(message, "bad_gateway")


def _error(message: str, code: str, status: int = 502) -> dict:
    kind = {400: "invalid_request_error", 404: "not_found"}.get(status, "server_error")
    return {"error": {"message": message, "type": kind, "code": code}}


def _items(body: Any) -> list[dict]:
    if isinstance(body, dict) and isinstance(body.get("data"), list):
        return [i for i in body["data"] if isinstance(i, dict)]
    return []


async def summary(client: httpx.AsyncClient, record: dict) -> dict:
    """One gateway as the sidebar shows it: health, models, adapters, work in flight."""
    names = ("health", "models", "batches", "adapters")
    results = await asyncio.gather(*(fetch(client, record, name) for name in names))
    (h_status, health), (m_status, models), (b_status, batches), (a_status, adapters) = results
    out = public(record)
    if h_status == 502:
        out["error"] = health["error"]["message"]
        return out
    out.update(
        ready=bool(health.get("ready")),
        status=health.get("status"),
        engine=health.get("engine") or out["engine"],
        device=health.get("device") or out["device"],
        requests_running=health.get("requests_running", 0),
        requests_waiting=health.get("requests_waiting", 0),
    )
    if m_status == 200:
        out["models"] = [
            {k: m.get(k) for k in ("id", "modality", "status", "parent")}
            for m in _items(models)
            if not m.get("parent")
        ]
        out["adapters"] = sorted(m["id"] for m in _items(models) if m.get("parent"))
    else:
        out["models"] = [
            {"id": m.get("id"), "modality": m.get("modality"), "status": m.get("status")}
            for m in health.get("models") or []
        ]
        out["adapters"] = sorted(health.get("adapters") or [])
    # batch jobs and training jobs are optional features: null when the gateway lacks them
    active_batches = [b for b in _items(batches) if b.get("status") in BATCH_ACTIVE]
    training = [a for a in _items(adapters) if a.get("status") in TRAINING_ACTIVE]
    out["batches_active"] = len(active_batches) if b_status == 200 else None
    out["training_active"] = len(training) if a_status == 200 else None
    # the jobs themselves, newest first, so the sidebar can open a monitor on one
    out["batches"] = [_batch_row(b) for b in _items(batches)[:JOBS_SHOWN]]
    trained = [a for a in _items(adapters) if a.get("source") != "imported"]  # oldest first
    out["trainings"] = [_training_row(a) for a in reversed(trained)][:JOBS_SHOWN]
    return out


def _batch_row(batch: dict) -> dict:
    done = (batch.get("completed_requests") or 0) + (batch.get("failed_requests") or 0)
    return {
        "id": batch.get("id"),
        "status": batch.get("status"),
        "done": done,
        "total": batch.get("total_requests") or 0,
    }


def _training_row(adapter: dict) -> dict:
    progress = adapter.get("progress") or {}
    return {
        "id": adapter.get("name"),
        "status": adapter.get("status"),
        "done": progress.get("step") or 0,
        "total": progress.get("total_steps") or 0,
    }


async def summaries() -> list[dict]:
    records = list_gateways()
    async with httpx.AsyncClient(trust_env=False) as client:
        return list(await asyncio.gather(*(summary(client, r) for r in records)))
