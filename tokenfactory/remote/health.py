"""Background health checks: ``GET /v1/models`` on every replica, every few seconds.

A replica is healthy when it answers and lists the model (with status ``loaded`` where the
upstream reports one, as ``tokenfactory serve`` does); it is ejected when the check fails and
re-admitted on the first check that passes. The same reply tells which LoRA adapters it holds.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

import httpx

from .adapters import probe
from .replica import Replica

log = logging.getLogger("tokenfactory.remote")

CHECK_TIMEOUT_S = 5.0


async def check(replica: Replica) -> None:
    """Probe one replica and update its state."""
    replica.last_check = time.time()
    try:
        resp = await replica.client.get("/models", timeout=CHECK_TIMEOUT_S)
    except httpx.HTTPError as exc:
        _mark(replica, "ejected", f"{type(exc).__name__}: {exc}")
        return
    if resp.status_code != 200:
        _mark(replica, "ejected", f"GET /v1/models answered {resp.status_code}")
        return
    try:
        entries = resp.json().get("data", [])
    except (ValueError, AttributeError):
        _mark(replica, "ejected", "GET /v1/models sent no model list")
        return
    name = replica.spec.upstream_model
    entry = next((m for m in entries if m.get("id") == name), None)
    if entry is None:
        listed = ", ".join(str(m.get("id")) for m in entries[:10])
        _mark(replica, "ejected", f"the upstream does not serve '{name}' (it lists: {listed})")
        return
    replica.modality = entry.get("modality") or replica.modality
    replica.context_length = entry.get("context_length") or entry.get("max_model_len")
    replica.adapters = sorted(
        m["id"] for m in entries if m.get("parent") == name and m.get("id") != name
    )
    status = entry.get("status")
    if status in (None, "loaded"):
        _mark(replica, "healthy", None)
        if replica.runtime_lora is None:
            await probe(replica)
    elif status in ("loading", "available", "downloading"):
        _mark(replica, "loading", f"the model is {status} on the upstream")
    else:
        _mark(replica, "ejected", f"the model is {status} on the upstream: {entry.get('error')}")


def _mark(replica: Replica, state, error: str | None) -> None:
    if state != replica.state:
        log.log(
            logging.INFO if state == "healthy" else logging.WARNING,
            "upstream %s: %s -> %s%s",
            replica.url,
            replica.state,
            state,
            f" ({error})" if error else "",
        )
    replica.set_state(state, error)


class HealthChecker:
    def __init__(self, replicas: list[Replica], interval_s: float = 2.0) -> None:
        self.replicas = replicas
        self.interval_s = interval_s
        self._task: asyncio.Task | None = None

    async def check_all(self) -> None:
        await asyncio.gather(*(check(r) for r in self.replicas))

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._loop(), name="tokenfactory-upstream-health")

    async def _loop(self) -> None:
        while True:
            try:
                await self.check_all()
            except Exception:  # a bug in one round must not stop the checks
                log.exception("upstream health round failed")
            await asyncio.sleep(self.interval_s)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
